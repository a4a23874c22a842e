//! The demo `make demo` runs: a small database of people, written one record at a time and in
//! an atomic batch, read back by key and by scan, indexed while it stays writable, queried, and
//! verified. Run it with `cargo run --release -p fielddb --example demo [DIR]`.

use fielddb::{Batch, FieldDb, IndexSpec, Query, QueryOptions, Record, ScanOptions, Value};

fn show(key: &[u8], record: &Record) -> String {
    let fields: Vec<String> = record.iter().map(|(n, v)| format!("{n}={v}")).collect();
    format!("{:<8} {}", String::from_utf8_lossy(key), fields.join(" "))
}

fn main() -> fielddb::Result<()> {
    let dir = match std::env::args().nth(1) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("fielddb-demo-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let db = FieldDb::open(&dir)?;
    println!("opened {}", dir.display());

    let people = [
        ("ada", "Ada Lovelace", 1815, "London"),
        ("alan", "Alan Turing", 1912, "London"),
        ("grace", "Grace Hopper", 1906, "New York"),
        ("edsger", "Edsger Dijkstra", 1930, "Rotterdam"),
    ];
    for (key, name, born, city) in people {
        db.put(
            key,
            Record::new()
                .set("name", name)
                .set("born", born)
                .set("city", city),
        )?;
    }
    let mut batch = Batch::new();
    batch
        .put(
            "barbara",
            Record::new()
                .set("name", "Barbara Liskov")
                .set("born", 1939)
                .set("city", "Los Angeles"),
        )
        .put(
            "donald",
            Record::new()
                .set("name", "Donald Knuth")
                .set("born", 1938)
                .set("city", "Milwaukee"),
        )
        .put("temp", Record::new().set("name", "to be deleted"));
    db.write_batch(batch)?;
    println!("deleted temp: {}", db.delete("temp")?);

    println!(
        "\nget ada:\n  {}",
        show(b"ada", &db.get("ada")?.unwrap_or_default())
    );

    println!("\nscan from \"b\", limit 3:");
    let page = db.scan(&ScanOptions::new().from("b").limit(3))?;
    for (key, record) in &page.rows {
        println!("  {}", show(key, record));
    }
    if let Some(next) = &page.next {
        println!(
            "  (next page starts after {:?})",
            String::from_utf8_lossy(next)
        );
    }

    println!("\nrecords: {}", db.len()?);

    let born = db.create_index(IndexSpec::on("born"))?;
    let city = db.create_index_on_field("city")?;
    // Writes go on while the indexes build; they are maintained too.
    db.put(
        "linus",
        Record::new()
            .set("name", "Linus Torvalds")
            .set("born", 1969)
            .set("city", "Helsinki"),
    )?;
    born.wait()?;
    city.wait()?;
    println!("indexes:");
    for info in db.indexes() {
        println!("  {} {:?}", info.field, info.state);
    }

    println!("\nquery born between 1900 and 1935:");
    let page = db.query_by_index("born", &Query::between(1900, 1935), &QueryOptions::new())?;
    for (key, record) in &page.rows {
        println!("  {}", show(key, record));
    }
    println!(
        "\ncount city = \"London\": {}",
        db.count_by_index("city", &Query::eq("London"))?
    );
    println!("query city prefix \"L\", descending:");
    let page = db.query_by_index(
        "city",
        &Query::prefix("L"),
        &QueryOptions::new().reverse(true),
    )?;
    for (key, record) in &page.rows {
        println!(
            "  {:<8} {}",
            String::from_utf8_lossy(key),
            record.get("city").unwrap_or(&Value::Null)
        );
    }

    let report = db.verify()?;
    println!(
        "\nverify: {} records, {} missing, {} stale",
        report.records,
        report.missing(),
        report.stale()
    );
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
