//! The text of `help` and `help COMMAND`.

pub const SUMMARY: &[(&str, &str)] = &[
    (
        "put KEY FIELD=VALUE ...",
        "store a record (or: put KEY {\"field\": value, ...})",
    ),
    ("get KEY", "show the record at KEY"),
    ("delete KEY", "delete the record at KEY"),
    (
        "update KEY FIELD=VALUE ... [unset FIELD ...]",
        "set and remove fields of the record at KEY (upsert: create it if absent)",
    ),
    (
        "append KEY FIELD VALUE",
        "append a string (or bytes) to a field, creating it if absent",
    ),
    (
        "scan [from KEY] [to KEY] [where FIELD COND [and FIELD COND ...]] [limit N] [after KEY] [desc]",
        "records in key order (to is exclusive)",
    ),
    (
        "create index FIELD[,FIELD...] [unique] [counted] [include FIELD,...|*]",
        "start building an index (on several fields: compound) in the background",
    ),
    ("drop index NAME", "drop an index (a compound one is named FIELD,FIELD)"),
    ("indexes", "list indexes with state and progress"),
    ("wait", "block until background index tasks finish"),
    (
        "query FIELD COND [and FIELD COND ...] [fields F,...] [limit N] [after CURSOR] [desc]",
        "records meeting every condition, from the best ready index",
    ),
    (
        "count FIELD COND [and FIELD COND ...]",
        "how many records match, from the best ready index",
    ),
    (
        "explain FIELD COND [and FIELD COND ...]",
        "the plan of a query: index, range, residual conditions, estimated rows",
    ),
    (
        "import FILE [--key COLUMN] [--null TOKEN]",
        "load CSV (.csv) or JSON lines (.jsonl, .ndjson)",
    ),
    ("export FILE", "write every record as JSON lines"),
    ("verify", "check every ready index against the records"),
    ("stats", "records, indexes and sizes"),
    ("compact", "write memory to files and compact them (after a bulk load)"),
    (
        "backup DIR [DIR ...]",
        "back the database up into each directory (incremental, online)",
    ),
    ("backups DIR", "list a directory's backups"),
    (
        "restore DIR [ID] --to NEWDB",
        "restore a backup (the newest by default) into a new directory",
    ),
    (
        "verify-backup DIR [ID] [--deep]",
        "check a backup's files; --deep restores it aside and verifies it",
    ),
    (
        "purge-backups DIR --keep N",
        "keep only the newest N backups",
    ),
    ("help [COMMAND]", "this list, or one command in detail"),
    ("quit", "leave (Ctrl-D too)"),
];

pub fn detail(command: &str) -> Option<&'static str> {
    Some(match command {
        "put" => "put KEY FIELD=VALUE ...   |   put KEY {JSON object}\n\
            Stores a record, replacing any at KEY. Literals: 42, -3, 4.5, true, false, null,\n\
            \"text\" (JSON escapes), bare words as strings, bytes as 0x00ff.\n\
            An empty string is written name=\"\".",
        "get" => "get KEY\nShows the record at KEY, or says there is none.",
        "delete" => "delete KEY\nDeletes the record at KEY (and its index entries).",
        "update" | "upsert" => "update KEY FIELD=VALUE ... [unset FIELD ...]   |   upsert KEY ...\n\
            Sets and removes fields of the record at KEY, in the order given, keeping the other\n\
            fields where they are (a new field goes at the end), and shows the record. Every\n\
            index follows. Without a record at KEY, update fails (not_found); upsert creates it.",
        "append" => "append KEY FIELD VALUE\n\
            Appends a string to a string field, or bytes (0x...) to a bytes field, and shows the\n\
            record. A missing field, or record, is created. Other types are refused.",
        "scan" => "scan [from KEY] [to KEY] [where FIELD COND [and FIELD COND ...]] [limit N] [after KEY] [desc]\n\
            Records in key order; `from` is inclusive, `to` exclusive. `where` filters without an\n\
            index (a full scan), by conditions written as in `query`.\n\
            When a limit cuts the result, `next` gives the key to pass to `after`.",
        "create" => "create index FIELD [unique] [counted]\ncreate index FIELD,FIELD[,...] [unique] [counted]\n\
            Starts building an index in the background and returns at once;\n\
            writes go on meanwhile. Use `wait` or `indexes` to follow it. On several fields it is a\n\
            compound index, named by its fields (`carrier,dest`): entries sort by the first field,\n\
            then the next; a record lacking any of the fields has no entry. `unique`: no two\n\
            records may hold the same value (the same values, for a compound index). `counted`:\n\
            keep a count per value, so `count FIELD = V` (or equalities on every field of a\n\
            compound index) is one read (each write that changes the field then costs a little more).\n\
            `include name,score`: the entries also hold those fields, so `query ... fields` asking\n\
            only for indexed and included fields reads no record (a covering index); `include *`\n\
            holds the whole record (a second copy of the data, sorted by the index).",
        "drop" => "drop index NAME\nDrops the index (a compound one is named by its fields: `drop index carrier,dest`);\n\
            its entries are deleted in the background.",
        "indexes" => "indexes\nLists the indexes with their state (building, ready, dropping) and progress.",
        "wait" => "wait\nBlocks until every background build and drop has finished.",
        "query" => "query FIELD = V\nquery FIELD OP V [and OP V]      (OP: < <= > >=)\n\
            query FIELD between A and B      (inclusive)\nquery FIELD prefix S\n\
            Each takes [fields F,...] [limit N] [after CURSOR] [desc]. Needs a ready index on FIELD.\n\
            `fields name,score` returns only those fields, in that order; read from the index\n\
            alone when it holds them (its own fields and those it includes).\n\
            Ints and floats compare as numbers. When a limit cuts the result, `next` is the\n\
            cursor to pass to `after`.\n\
            Several conditions: query FIELD COND and FIELD COND ..., e.g.\n\
            query carrier = \"UA\" and dest = IAH and dep_delay > 60. The best ready index answers\n\
            the equalities on a leading run of its fields, then one range or prefix on the next\n\
            (a compound index needs a condition on each of its fields; see `explain`); the others\n\
            filter what it fetches. Contradicting conditions (a = 1 and a = 2) answer nothing.\n\
            Without a usable ready index the query is refused, naming the index to create;\n\
            `scan where ...` reads every record instead.",
        "count" => "count FIELD COND [and FIELD COND ...]\n\
            The number of records matching (as in `query`): one read when every condition is an\n\
            equality on a field of a counted (compound) index; else a walk.",
        "explain" => "explain [query] FIELD COND [and FIELD COND ...]\n\
            The plan of a query: the index it walks, the part walked (its leading values), the\n\
            conditions checked on each record fetched, and the rows the index yields: exact from\n\
            a counted index's counts or a short walk, else estimated from approximate sizes.",
        "import" => "import FILE [--key COLUMN] [--null TOKEN]\n\
            CSV with a header row (.csv) or JSON lines (.jsonl, .ndjson). CSV cells are typed as\n\
            int, then float, then true/false, else string; an empty cell, or one equal to the\n\
            --null token, is an absent field. Without --key, keys are FILE-STEM:ROW (zero-padded,\n\
            so they sort in file order). The whole file is checked before anything is written.",
        "export" => "export FILE\nWrites every record as a JSON line {\"key\": ..., \"record\": {...}};\n\
            `import` reads that form back.",
        "verify" => "verify\nRecomputes every ready index from the records; reports missing and stale entries and\n\
            wrong counts (of counted indexes).",
        "stats" => "stats\nRecords, indexes with state and progress, and sizes on disk.",
        "compact" => "compact\nWaits for background index work, then writes everything held in memory to files and\n\
            compacts them, so reads come from sorted files and the directory holds no space that\n\
            deleted or overwritten records still took. Worth it after a bulk load; RocksDB\n\
            compacts on its own otherwise.",
        "backup" => "backup DIR [DIR ...]\n\
            Backs the database up, as of now, into each directory (created if needed), while\n\
            writes go on. A backup is consistent (records, index entries and counts together)\n\
            and incremental: files the directory already holds are shared, not copied. A\n\
            directory holds the backups of one database. A target that fails is named; the\n\
            others still get their backup.",
        "backups" => "backups DIR\nLists the backups in DIR: id, time, size, bytes it added, records.",
        "restore" => "restore DIR [ID] --to NEWDB\n\
            Restores backup ID (the newest without one) into NEWDB, which must not exist or be\n\
            empty. The backup's files are checked first; a corrupt one is named and nothing is\n\
            restored. An index that was building resumes on first open.",
        "verify-backup" => "verify-backup DIR [ID] [--deep]\n\
            Checks every file of the backup against the sizes and CRC32C checksums recorded for\n\
            it, naming a file that differs. --deep also restores it into a temporary directory,\n\
            opens it and runs verify.",
        "purge-backups" => "purge-backups DIR --keep N\n\
            Deletes all but the newest N backups of DIR (and the files only they used).",
        "help" => "help [COMMAND]\nLists the commands, or explains one.",
        "quit" | "exit" => "quit\nLeaves the shell.",
        _ => return None,
    })
}

pub fn summary_text() -> String {
    let width = SUMMARY
        .iter()
        .map(|(s, _)| s.len())
        .max()
        .unwrap_or(0)
        .min(48);
    let mut out = String::from("Commands (keywords are case-insensitive):\n");
    for (syntax, what) in SUMMARY {
        if syntax.len() > width {
            out.push_str(&format!("  {syntax}\n  {:width$}  {what}\n", ""));
        } else {
            out.push_str(&format!("  {syntax:width$}  {what}\n"));
        }
    }
    out.push_str("REPL only: .timer on|off, .mode auto|table|line. `help COMMAND` for details.");
    out
}
