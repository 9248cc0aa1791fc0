//! `cognito-mfa faults add|list|clear`: manages a running server's fault-injection rules
//! (`/_cognito-mfa/faults`) from a shell, e.g. to make the next two sign-ins answer
//! `TooManyRequestsException` while an app's retry path is being tried by hand.

use crate::admin_http::request;
use anyhow::bail;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::{Map, Value, json};

/// `faults` options.
#[derive(Debug, Args)]
pub(crate) struct FaultsArgs {
    /// The server's base URL.
    #[arg(long, global = true, default_value = "http://127.0.0.1:9330", value_name = "URL")]
    url: String,
    #[command(subcommand)]
    command: FaultsCommand,
}

#[derive(Debug, Subcommand)]
enum FaultsCommand {
    /// Add a rule; prints it with its id.
    Add(AddArgs),
    /// Print the rules in force, oldest first.
    List,
    /// Remove every rule, or the one with --id.
    Clear {
        /// The id `add` or `list` printed.
        #[arg(long)]
        id: Option<u64>,
    },
}

/// What a rule matches, what it does (one of --error, --latency-ms, --drop) and how often.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("action").required(true).args(["error", "latency_ms", "drop"])))]
struct AddArgs {
    /// Only this operation, e.g. InitiateAuth [default: every operation]
    #[arg(long, value_name = "NAME")]
    operation: Option<String>,
    /// Only calls whose UserPoolId is this pool (calls naming no pool never match).
    #[arg(long, value_name = "ID")]
    pool_id: Option<String>,
    /// Answer this error __type, e.g. TooManyRequestsException or InternalErrorException (HTTP 500).
    #[arg(long, value_name = "TYPE")]
    error: Option<String>,
    /// The error's message (with --error) [default: AWS's wording where known].
    #[arg(long)]
    message: Option<String>,
    /// Wait this many milliseconds before answering.
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// Close the connection without answering.
    #[arg(long)]
    drop: bool,
    /// Only the next N matching calls [default: every matching call until cleared].
    #[arg(long, value_name = "N", conflicts_with = "probability")]
    count: Option<u64>,
    /// Each matching call with this chance, from 0 to 1.
    #[arg(long, value_name = "P")]
    probability: Option<f64>,
}

impl AddArgs {
    /// The rule as the server takes it (see `cmfa_server::faults::RuleSpec`).
    fn to_json(&self) -> Value {
        let mut rule = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                rule.insert(k.to_owned(), v);
            }
        };
        put("operation", self.operation.clone().map(Value::from));
        put("poolId", self.pool_id.clone().map(Value::from));
        put("error", self.error.clone().map(Value::from));
        put("message", self.message.clone().map(Value::from));
        put("latencyMs", self.latency_ms.map(Value::from));
        put("drop", self.drop.then_some(Value::Bool(true)));
        put("count", self.count.map(Value::from));
        put("probability", self.probability.map(Value::from));
        Value::Object(rule)
    }
}

/// Runs the command; prints the server's JSON answer, one rule per line for `list`.
pub(crate) fn run(a: FaultsArgs) -> anyhow::Result<()> {
    let answer = match &a.command {
        FaultsCommand::Add(rule) => request(&a.url, "POST", "/_cognito-mfa/faults", Some(&rule.to_json()))?,
        FaultsCommand::List => request(&a.url, "GET", "/_cognito-mfa/faults", None)?,
        FaultsCommand::Clear { id: None } => request(&a.url, "DELETE", "/_cognito-mfa/faults", None)?,
        FaultsCommand::Clear { id: Some(id) } => {
            request(&a.url, "DELETE", &format!("/_cognito-mfa/faults/{id}"), None)?
        }
    };
    if answer.status != 200 {
        bail!("the server answered {}", answer.error_text());
    }
    let doc: Value = serde_json::from_str(&answer.body).unwrap_or_else(|_| json!(answer.body));
    match (&a.command, doc.get("rules").and_then(Value::as_array)) {
        (FaultsCommand::List, Some(rules)) => {
            for r in rules {
                println!("{r}");
            }
        }
        _ => println!("{doc}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        faults: FaultsArgs,
    }

    fn parse(args: &[&str]) -> Result<FaultsArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("faults").chain(args.iter().copied())).map(|c| c.faults)
    }

    #[test]
    fn add_sends_only_what_was_given() {
        let a = parse(&[
            "add",
            "--operation",
            "InitiateAuth",
            "--error",
            "TooManyRequestsException",
            "--count",
            "2",
        ])
        .unwrap();
        let FaultsCommand::Add(rule) = &a.command else {
            panic!("not add")
        };
        assert_eq!(
            rule.to_json(),
            json!({"operation": "InitiateAuth", "error": "TooManyRequestsException", "count": 2})
        );
        assert_eq!(a.url, "http://127.0.0.1:9330");
        let a = parse(&["add", "--drop", "--probability", "0.5", "--url", "http://127.0.0.1:1"]).unwrap();
        let FaultsCommand::Add(rule) = &a.command else {
            panic!("not add")
        };
        assert_eq!(rule.to_json(), json!({"drop": true, "probability": 0.5}));
        assert_eq!(a.url, "http://127.0.0.1:1");
    }

    #[test]
    fn add_needs_one_action_and_one_way_of_counting() {
        assert!(parse(&["add"]).is_err());
        assert!(parse(&["add", "--drop", "--latency-ms", "5"]).is_err());
        assert!(parse(&["add", "--drop", "--count", "1", "--probability", "1"]).is_err());
        assert!(parse(&["clear", "--id", "3"]).is_ok());
    }
}
