//! jEAP command structure rules.

use crate::model::{Field, Model, NamedDef, Node, Prim};

/// The namespace of jEAP's base records.
pub const JEAP_BASE_NAMESPACE: &str = "ch.admin.bit.jeap.messaging.avro";

const REQUIRED: &[&str] = &["identity", "type", "publisher", "commandVersion"];
const OPTIONAL: &[&str] = &["references", "payload", "processId", "user"];
const BASE: &[&str] = &["identity", "type", "publisher", "user"];

/// Checks the structure rules; returns `(rule, message)` pairs, empty when all hold.
pub(crate) fn check(model: &Model) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let Node::Named(root) = &model.root else {
        out.push(("command-record", "the schema is not a record".to_owned()));
        return out;
    };
    let Some(named) = model.named(*root) else {
        return out;
    };
    let NamedDef::Record(fields) = &named.def else {
        out.push((
            "command-record",
            format!("`{}` is not a record", named.full_name),
        ));
        return out;
    };
    if !named.name.ends_with("Command") {
        out.push((
            "command-record",
            format!("the record `{}` is not named `*Command`", named.full_name),
        ));
    }
    let find = |n: &str| fields.iter().find(|f| f.name == n);
    for name in REQUIRED {
        match find(name) {
            None => out.push((
                "command-fields",
                format!("`{}` lacks the required field `{name}`", named.name),
            )),
            Some(f) if matches!(f.node, Node::Union(_)) => out.push((
                "command-fields",
                format!("`{}.{name}` must be required, not a union", named.name),
            )),
            Some(_) => {}
        }
    }
    for f in fields {
        if !REQUIRED.contains(&f.name.as_str()) && !OPTIONAL.contains(&f.name.as_str()) {
            out.push((
                "command-fields",
                format!(
                    "`{}` has the field `{}`; a command has exactly identity, type, publisher, commandVersion and optionally references, payload, processId, user",
                    named.name, f.name
                ),
            ));
        }
    }
    let short_name = |f: &Field| match non_null(&f.node) {
        Some(Node::Named(i)) => model.named(*i).map(|n| (n.name.clone(), &n.def)),
        _ => None,
    };
    for (field, suffix) in [("references", "References"), ("payload", "Payload")] {
        if let Some(f) = find(field) {
            match short_name(f) {
                Some((n, NamedDef::Record(_))) if n.ends_with(suffix) => {}
                _ => out.push((
                    "command-fields",
                    format!(
                        "`{}.{field}` must be a record whose name ends with `{suffix}`",
                        named.name
                    ),
                )),
            }
        }
    }
    if let Some(f) = find("processId") {
        let ok = match &f.node {
            Node::Prim(Prim::String) => true,
            Node::Union(b) => matches!(
                b.as_slice(),
                [Node::Prim(Prim::Null), Node::Prim(Prim::String)]
            ),
            _ => false,
        };
        if !ok {
            out.push((
                "command-fields",
                format!(
                    "`{}.processId` must be `string` or `[\"null\", \"string\"]`",
                    named.name
                ),
            ));
        }
    }
    for base in BASE {
        if let Some(f) = find(base) {
            match non_null(&f.node).and_then(|n| match n {
                Node::Named(i) => model.named(*i),
                _ => None,
            }) {
                Some(n) if matches!(n.def, NamedDef::Record(_)) => {
                    if n.namespace.as_deref() != Some(JEAP_BASE_NAMESPACE) {
                        out.push((
                            "base-namespace",
                            format!(
                                "the base record `{}` of `{}.{base}` must live in namespace `{JEAP_BASE_NAMESPACE}`",
                                n.full_name, named.name
                            ),
                        ));
                    }
                }
                _ => out.push((
                    "base-namespace",
                    format!("`{}.{base}` must be a jEAP base record", named.name),
                )),
            }
        }
    }
    // Optional fields are exactly ["null", T], anywhere in the schema.
    for n in &model.named {
        if let NamedDef::Record(fields) = &n.def {
            for f in fields {
                if let Node::Union(b) = &f.node {
                    let has_null = b.iter().any(|x| matches!(x, Node::Prim(Prim::Null)));
                    let exact = matches!(b.as_slice(), [Node::Prim(Prim::Null), t] if !matches!(t, Node::Prim(Prim::Null)));
                    if has_null && !exact {
                        out.push((
                            "optional-field",
                            format!(
                                "`{}.{}` is optional but not exactly [\"null\", T]: {}",
                                n.name,
                                f.name,
                                model.describe(&f.node)
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The `T` of `["null", T]`, or the node itself.
fn non_null(node: &Node) -> Option<&Node> {
    match node {
        Node::Union(b) => match b.as_slice() {
            [Node::Prim(Prim::Null), t] => Some(t),
            _ => None,
        },
        other => Some(other),
    }
}
