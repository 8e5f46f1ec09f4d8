//! `audit verify-signature`: checks a record's jEAP signature headers (`jeap-sign`,
//! `jeap-sign-key`, `jeap-cert`) against configured certificate chains, with the subscriber's
//! rules and outcome table (`audit_signing::Verifier`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use audit_signing::{Accepted, MessageInfo, ReceivedHeaders, Rejection, Verifier, VerifierConfig};
use clap::Args;

use crate::error::CliError;

const EXAMPLES: &str = "Examples:
  audit verify-signature record.bin --header jeap-sign=@record.sign --header jeap-cert=hex:01e241 \\
      --chain invoice-service=invoice-service-chain.pem
  audit verify-signature record.bin --key key.bin --header jeap-sign-key=@key.sign \\
      --header jeap-sign=@record.sign --header jeap-cert=hex:01e241 --chain invoice-service=chain.pem --format json

The value file holds the record value exactly as it was on the topic (Confluent-framed Avro).
A chain file holds the PEM certificates of one chain, leaf first, root last (jEAP's
jeap.messaging.authentication.subscriber.certificate-chains).
Exit codes: 0 accepted; 1 rejected (the line names jEAP's outcome, temporality and error code);
2 usage or input error.";

/// Arguments of `audit verify-signature`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct VerifyArgs {
    /// The record value as it was on the topic (Confluent-framed Avro), a file.
    value: PathBuf,
    /// The record key bytes, a file (checked against `jeap-sign-key`).
    #[arg(long)]
    key: Option<PathBuf>,
    /// A record header `NAME=hex:HEX`, `NAME=@FILE` (raw bytes) or `NAME=TEXT`; repeatable.
    /// When a name is given twice the last one counts (as in jEAP).
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    /// A trusted chain of a publishing service, `SERVICE=PEMFILE` (leaf first, root last);
    /// repeatable, also several chains per service.
    #[arg(long = "chain", value_name = "SERVICE=PEMFILE")]
    chains: Vec<String>,
    /// Accept an unsigned record (jEAP's require-signature=false); a signed one is still verified.
    #[arg(long)]
    allow_unsigned: bool,
    /// Certificate CNs that may publish for any service (default: mirrormaker); repeatable.
    #[arg(long = "privileged-cn", value_name = "CN")]
    privileged_cns: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// One part's outcome, for printing.
struct Outcome {
    part: &'static str,
    result: Result<Accepted, Rejection>,
}

pub(crate) fn run(args: VerifyArgs) -> Result<(), CliError> {
    let value = read(&args.value, "record value")?;
    let key = args
        .key
        .as_deref()
        .map(|p| read(p, "record key"))
        .transpose()?;
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let verifier = Verifier::new(config(&args)?)
        .map_err(|e| CliError::input_from("the certificate chains cannot be used", e))?;

    let received =
        ReceivedHeaders::from_headers(headers.iter().map(|(n, v)| (n.as_str(), Some(&v[..]))));
    let decoded = audit_error_event::decode_command(&value).ok();
    let message = decoded.as_ref().map(|d| MessageInfo {
        type_name: d.command.r#type.name.as_str(),
        service: d.command.publisher.service.as_str(),
    });
    let mut outcomes = vec![Outcome {
        part: "value",
        result: verifier.verify_value(message, &received, &value),
    }];
    if let Some(key) = &key {
        outcomes.push(Outcome {
            part: "key",
            result: verifier.verify_key(&received, key),
        });
    }
    print(args.format, message, &outcomes);
    match outcomes.iter().find_map(|o| o.result.as_ref().err()) {
        None => Ok(()),
        Some(rejection) => Err(CliError::CheckFailed(format!(
            "signature check failed: {}",
            rejection.name()
        ))),
    }
}

fn config(args: &VerifyArgs) -> Result<VerifierConfig, CliError> {
    let mut chains: HashMap<String, BTreeMap<String, Vec<String>>> = HashMap::new();
    for spec in &args.chains {
        let (service, file) = spec.split_once('=').ok_or_else(|| {
            CliError::input(format!("--chain {spec:?}: expected SERVICE=PEMFILE"))
        })?;
        if service.trim().is_empty() {
            return Err(CliError::input(format!(
                "--chain {spec:?}: the service name is empty"
            )));
        }
        let text = String::from_utf8(read(Path::new(file), "certificate chain")?)
            .map_err(|e| CliError::input_from(format!("{file}: not a PEM text file"), e))?;
        let pems = split_pem(&text);
        if pems.is_empty() {
            return Err(CliError::input(format!(
                "{file}: no -----BEGIN CERTIFICATE----- block"
            )));
        }
        chains
            .entry(service.to_owned())
            .or_default()
            .insert(file.to_owned(), pems);
    }
    let mut config = VerifierConfig {
        application: "audit-cli".to_owned(),
        require_signature: !args.allow_unsigned,
        verify_when_not_required: true,
        certificate_chains: chains,
        ..VerifierConfig::default()
    };
    if !args.privileged_cns.is_empty() {
        config.privileged_producer_common_names = args.privileged_cns.iter().cloned().collect();
    }
    Ok(config)
}

/// The certificate blocks of a PEM text, each with its BEGIN/END lines.
fn split_pem(text: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            break;
        };
        let end = start + len + END.len();
        out.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    out
}

fn parse_header(spec: &str) -> Result<(String, Vec<u8>), CliError> {
    let (name, value) = spec
        .split_once('=')
        .ok_or_else(|| CliError::input(format!("--header {spec:?}: expected NAME=VALUE")))?;
    if name.is_empty() {
        return Err(CliError::input(format!(
            "--header {spec:?}: the header name is empty"
        )));
    }
    let bytes = if let Some(hex) = value.strip_prefix("hex:") {
        hex::decode(hex)
            .map_err(|e| CliError::input_from(format!("--header {name}: bad hex"), e))?
    } else if let Some(file) = value.strip_prefix('@') {
        read(Path::new(file), "header value")?
    } else {
        value.as_bytes().to_vec()
    };
    Ok((name.to_owned(), bytes))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::input_from(format!("{what} {}", path.display()), e))
}

fn print(format: Format, message: Option<MessageInfo<'_>>, outcomes: &[Outcome]) {
    match format {
        Format::Text => {
            if let Some(m) = message {
                println!("message: {} published by {}", m.type_name, m.service);
            } else {
                println!("message: not a CreateAuditRecordCommand of a known version");
            }
            for o in outcomes {
                match &o.result {
                    Ok(accepted) => println!("{}: accepted: {}", o.part, describe(accepted)),
                    Err(r) => println!(
                        "{}: rejected: {} ({}, {}): {r}",
                        o.part,
                        r.name(),
                        r.temporality().as_str(),
                        r.error_code()
                    ),
                }
            }
        }
        Format::Json => {
            let parts: serde_json::Map<String, serde_json::Value> = outcomes
                .iter()
                .map(|o| {
                    let v = match &o.result {
                        Ok(a) => serde_json::json!({"accepted": true, "outcome": describe(a)}),
                        Err(r) => serde_json::json!({
                            "accepted": false,
                            "outcome": r.name(),
                            "temporality": r.temporality().as_str(),
                            "errorCode": r.error_code(),
                            "message": r.to_string(),
                        }),
                    };
                    (o.part.to_owned(), v)
                })
                .collect();
            let out = serde_json::json!({
                "messageType": message.map(|m| m.type_name),
                "publisher": message.map(|m| m.service),
                "parts": parts,
            });
            println!("{out}");
        }
    }
}

fn describe(accepted: &Accepted) -> String {
    match accepted {
        Accepted::Verified { common_name } => format!("verified (certificate CN={common_name})"),
        Accepted::Unsigned => "unsigned, no signature required".to_owned(),
        Accepted::UnknownCertificate => {
            "signed with an unknown certificate, no signature required".to_owned()
        }
        Accepted::NotChecked => "not checked".to_owned(),
        Accepted::NonJeapMessage => "not a jEAP message".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_in_three_forms() {
        assert_eq!(
            parse_header("jeap-cert=hex:00ff").ok(),
            Some(("jeap-cert".to_owned(), vec![0, 0xff]))
        );
        assert_eq!(
            parse_header("a=b=c").ok(),
            Some(("a".to_owned(), b"b=c".to_vec()))
        );
        assert!(parse_header("jeap-cert").is_err());
        assert!(parse_header("=x").is_err());
        assert!(parse_header("jeap-cert=hex:0").is_err());
    }

    #[test]
    fn pem_blocks_are_split() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        let text = format!("junk\n{one}\n{one}\ntrailer");
        assert_eq!(
            split_pem(&text),
            vec![format!("{one}\n"), format!("{one}\n")]
        );
        assert!(split_pem("nothing").is_empty());
    }
}
