//! A snapshot on the wire: the byte stream a leader sends a follower in `POST /raft/snapshot`,
//! written from the checkpoint's files and read into a new directory a chunk at a time, so
//! neither side holds the snapshot in memory.
//!
//! | bytes             | content                                              |
//! |-------------------|------------------------------------------------------|
//! | u32 LE n, n bytes | the header: JSON of `(vote, snapshot meta)`           |
//! | per file:         |                                                      |
//! | u32 LE n, n bytes | the file's name (UTF-8, not empty, no `/`, not `..`)  |
//! | u64 LE n, n bytes | its content                                          |
//! | u32 LE 0          | the end (a stream cut anywhere before it is refused)  |
//!
//! Both ends run on a blocking thread: [`pack`] writes into a [`ChunkWriter`], whose chunks the
//! HTTP client sends as they come; the server feeds the request body's chunks to a
//! [`ChunkReader`], which [`unpack`] reads.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use tokio::sync::mpsc;

/// The size of the chunks a [`ChunkWriter`] sends.
const CHUNK_BYTES: usize = 1 << 20;

/// The longest file name accepted.
const MAX_NAME_BYTES: usize = 4096;

/// Writes the header and every file of `dir` to `out`, then the end marker.
pub fn pack(header: &[u8], dir: &Path, out: &mut impl Write) -> io::Result<()> {
    out.write_all(&len32(header.len())?.to_le_bytes())?;
    out.write_all(header)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut file = File::open(entry.path())?;
        let size = file.metadata()?.len();
        out.write_all(&len32(name.len())?.to_le_bytes())?;
        out.write_all(name.as_bytes())?;
        out.write_all(&size.to_le_bytes())?;
        // Exactly `size` bytes, even if the file changed (a checkpoint's files do not).
        let copied = io::copy(&mut (&mut file).take(size), out)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{name} shrank while it was sent"),
            ));
        }
    }
    out.write_all(&0u32.to_le_bytes())?;
    out.flush()
}

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too long"))
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Reads a stream into `dir` (created; must not exist), fsyncing every file and the directory;
/// returns the header. A malformed or cut stream is `InvalidData` or `UnexpectedEof`, and what
/// was written of `dir` is left for the caller to remove.
pub fn unpack(input: &mut impl Read, dir: &Path, max_header: usize) -> io::Result<Vec<u8>> {
    let n = read_u32(input)? as usize;
    if n > max_header {
        return Err(invalid(format!("a snapshot header of {n} bytes")));
    }
    let mut header = vec![0u8; n];
    input.read_exact(&mut header)?;
    std::fs::create_dir(dir)?;
    loop {
        let n = read_u32(input)? as usize;
        if n == 0 {
            break;
        }
        if n > MAX_NAME_BYTES {
            return Err(invalid(format!("a file name of {n} bytes")));
        }
        let mut name = vec![0u8; n];
        input.read_exact(&mut name)?;
        let name = String::from_utf8(name).map_err(|_| invalid("a file name is not UTF-8"))?;
        if name.contains('/') || name == "." || name == ".." {
            return Err(invalid(format!("refused file name {name:?} in a snapshot")));
        }
        let mut size = [0u8; 8];
        input.read_exact(&mut size)?;
        let size = u64::from_le_bytes(size);
        let mut file = File::create(dir.join(&name))?;
        let copied = io::copy(&mut input.take(size), &mut file)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the snapshot stream ends inside {name}"),
            ));
        }
        file.sync_all()?;
    }
    let mut rest = [0u8; 1];
    if input.read(&mut rest)? != 0 {
        return Err(invalid("bytes after the end of the snapshot"));
    }
    File::open(dir)?.sync_all()?;
    Ok(header)
}

/// A `Write` that sends what is written as chunks of about [`CHUNK_BYTES`] down a channel (for
/// a blocking thread feeding an async body). Fails once the receiving side has gone.
pub struct ChunkWriter {
    chunks: mpsc::Sender<io::Result<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    /// A writer sending to `chunks`.
    pub fn new(chunks: mpsc::Sender<io::Result<Vec<u8>>>) -> ChunkWriter {
        ChunkWriter {
            chunks,
            buffer: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the receiver has gone"))
    }

    /// Sends `error` in place of the rest of the stream.
    pub fn fail(self, error: io::Error) {
        let _ = self.chunks.blocking_send(Err(error));
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = CHUNK_BYTES - self.buffer.len();
        let n = bytes.len().min(room);
        self.buffer.extend_from_slice(&bytes[..n]);
        if self.buffer.len() == CHUNK_BYTES {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A `Read` over chunks arriving on a channel (for a blocking thread consuming an async body).
/// The stream ends when every sender has gone; an error chunk is returned as the read's error.
pub struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl ChunkReader {
    /// A reader of what arrives on `chunks`.
    pub fn new(chunks: mpsc::Receiver<io::Result<Vec<u8>>>) -> ChunkReader {
        ChunkReader {
            chunks,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Some(Err(error)) => return Err(error),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        pack(b"head", dir, &mut out).unwrap();
        out
    }

    #[test]
    fn a_packed_directory_unpacks_to_the_same_files() {
        let from = tempfile::tempdir().unwrap();
        std::fs::write(from.path().join("a.sst"), b"alpha").unwrap();
        std::fs::write(from.path().join("CURRENT"), b"").unwrap();
        let big: Vec<u8> = (0..3 * CHUNK_BYTES + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(from.path().join("big.sst"), &big).unwrap();
        let body = packed(from.path());
        let to = tempfile::tempdir().unwrap();
        let dir = to.path().join("x");
        assert_eq!(unpack(&mut body.as_slice(), &dir, 1024).unwrap(), b"head");
        assert_eq!(std::fs::read(dir.join("a.sst")).unwrap(), b"alpha");
        assert_eq!(std::fs::read(dir.join("CURRENT")).unwrap(), b"");
        assert_eq!(std::fs::read(dir.join("big.sst")).unwrap(), big);
    }

    #[test]
    fn every_cut_of_the_stream_and_every_bad_name_is_refused() {
        let from = tempfile::tempdir().unwrap();
        std::fs::write(from.path().join("a.sst"), b"alpha").unwrap();
        std::fs::write(from.path().join("b.sst"), b"beta").unwrap();
        let body = packed(from.path());
        let to = tempfile::tempdir().unwrap();
        for cut in 0..body.len() {
            let dir = to.path().join(format!("cut{cut}"));
            assert!(
                unpack(&mut &body[..cut], &dir, 1024).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(unpack(&mut longer.as_slice(), &to.path().join("longer"), 1024).is_err());
        for name in ["../up", "a/b", "..", "."] {
            let mut evil = Vec::new();
            evil.extend_from_slice(&0u32.to_le_bytes());
            evil.extend_from_slice(&(name.len() as u32).to_le_bytes());
            evil.extend_from_slice(name.as_bytes());
            evil.extend_from_slice(&0u64.to_le_bytes());
            evil.extend_from_slice(&0u32.to_le_bytes());
            let dir = to.path().join(format!("evil{}", name.len()));
            assert!(unpack(&mut evil.as_slice(), &dir, 1024).is_err(), "{name}");
        }
        let mut huge_header = Vec::new();
        huge_header.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(&mut huge_header.as_slice(), &to.path().join("h"), 1024).is_err());
    }

    #[test]
    fn chunks_written_on_one_thread_are_read_back_whole_on_another() {
        let from = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..2 * CHUNK_BYTES + 5).map(|i| (i % 13) as u8).collect();
        std::fs::write(from.path().join("big.sst"), &big).unwrap();
        let (sender, receiver) = mpsc::channel(2);
        let source = from.path().to_owned();
        let writer = std::thread::spawn(move || {
            let mut out = ChunkWriter::new(sender);
            pack(b"h", &source, &mut out).unwrap();
        });
        let to = tempfile::tempdir().unwrap();
        let dir = to.path().join("x");
        let header = unpack(&mut ChunkReader::new(receiver), &dir, 16).unwrap();
        writer.join().unwrap();
        assert_eq!(header, b"h");
        assert_eq!(std::fs::read(dir.join("big.sst")).unwrap(), big);

        // An error sent down the channel is the reader's error.
        let (sender, receiver) = mpsc::channel(2);
        let failing = std::thread::spawn(move || {
            let mut out = ChunkWriter::new(sender);
            out.write_all(&4u32.to_le_bytes()).unwrap();
            out.flush().unwrap();
            out.fail(io::Error::other("the disk is gone"));
        });
        let error = unpack(&mut ChunkReader::new(receiver), &to.path().join("y"), 16).unwrap_err();
        failing.join().unwrap();
        assert_eq!(error.to_string(), "the disk is gone");
    }
}
