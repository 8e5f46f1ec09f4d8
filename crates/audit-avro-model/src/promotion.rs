//! Avro type promotion ("Schema Resolution" in the specification), the one place the rules are
//! written: a writer `int` is read as `long`, `float` or `double`; a writer `long` as `float`
//! or `double`; a writer `float` as `double`; `string` and `bytes` as each other.

use crate::schema::Prim;

/// True when data written as `writer` can be read as `reader` by promotion (different types
/// only: equal types need no promotion).
#[must_use]
pub const fn promotes(writer: Prim, reader: Prim) -> bool {
    matches!(
        (writer, reader),
        (Prim::Int, Prim::Long | Prim::Float | Prim::Double)
            | (Prim::Long, Prim::Float | Prim::Double)
            | (Prim::Float, Prim::Double)
            | (Prim::String, Prim::Bytes)
            | (Prim::Bytes, Prim::String)
    )
}

/// True when every value of `from` is represented exactly after promotion to `to` (so a value
/// of a newer reader type can be written into an older writer layout without loss): the
/// promotions except `int`/`long` -> `float`, `long` -> `double` (precision) and
/// `bytes` -> `string` (not every byte sequence is UTF-8).
#[must_use]
pub const fn promotes_losslessly(from: Prim, to: Prim) -> bool {
    promotes(from, to)
        && !matches!(
            (from, to),
            (Prim::Int | Prim::Long, Prim::Float)
                | (Prim::Long, Prim::Double)
                | (Prim::Bytes, Prim::String)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `(from, to)` pair `rule` accepts, as `from->to`.
    fn pairs(rule: fn(Prim, Prim) -> bool) -> Vec<String> {
        let mut pairs = Vec::new();
        for from in Prim::ALL {
            for to in Prim::ALL {
                if rule(from, to) {
                    pairs.push(format!("{}->{}", from.as_str(), to.as_str()));
                }
            }
        }
        pairs
    }

    #[test]
    fn the_specification_promotions_and_nothing_else() {
        assert_eq!(
            pairs(promotes),
            [
                "int->long",
                "int->float",
                "int->double",
                "long->float",
                "long->double",
                "float->double",
                "bytes->string",
                "string->bytes",
            ]
        );
    }

    #[test]
    fn lossless_promotions() {
        assert_eq!(
            pairs(promotes_losslessly),
            ["int->long", "int->double", "float->double", "string->bytes"]
        );
    }
}
