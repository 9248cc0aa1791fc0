//! docs/compatibility.md must list every operation of the model, and mark exactly the
//! implemented ones as supported or partial.

use cmfa_server::dispatch::IMPLEMENTED;
use cmfa_wire::Operation;

#[test]
fn compatibility_doc_matches_the_server() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/compatibility.md");
    let doc = std::fs::read_to_string(path).expect("docs/compatibility.md exists");
    for op in Operation::ALL {
        let needle = format!("| `{}` |", op.name());
        let row = doc
            .lines()
            .find(|l| l.starts_with(&needle))
            .unwrap_or_else(|| panic!("docs/compatibility.md has no row for {}", op.name()));
        let status = row.split('|').nth(3).unwrap_or("").trim();
        let implemented = IMPLEMENTED.contains(&op);
        if implemented {
            assert!(
                status == "supported" || status == "partial",
                "{} is implemented but marked {status:?}",
                op.name()
            );
        } else {
            assert_eq!(
                status,
                "not yet",
                "{} is not implemented but marked {status:?}",
                op.name()
            );
        }
    }
}
