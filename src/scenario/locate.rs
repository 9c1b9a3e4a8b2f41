//! Finding a field path such as `states[3].costs.region` in TOML source text.

use toml::de::{DeTable, DeValue};

use crate::error::Location;

/// The line and column of the value at `path`, or of its nearest existing parent.
pub(crate) fn locate(source: &str, path: &str) -> Option<Location> {
    find(source, path, false)
}

/// The line and column of the value at `path`, only if the source writes it.
pub(crate) fn locate_exact(source: &str, path: &str) -> Option<Location> {
    find(source, path, true)
}

fn find(source: &str, path: &str, exact: bool) -> Option<Location> {
    let root = DeTable::parse(source).ok()?;
    let mut span = root.span();
    let mut table = Some(root.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for segment in segments(path) {
        let next = match (segment, table, value) {
            (Segment::Key(k), Some(t), _) => t.get(k),
            (Segment::Key(k), None, Some(DeValue::Table(t))) => t.get(k),
            (Segment::Index(i), _, Some(DeValue::Array(a))) => a.get(i),
            _ => None,
        };
        let Some(next) = next else {
            if exact {
                return None;
            }
            break;
        };
        span = next.span();
        value = Some(next.get_ref());
        table = None;
    }
    Some(location_of(source, span.start))
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn location_of(source: &str, offset: usize) -> Location {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { line, column }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(Segment::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_array_fields() {
        let src =
            "[scenario]\nname = \"x\"\n\n[[states]]\nid = \"a\"\n\n[[states]]\nid = \"b\"\ncosts = { region = -5 }\n";
        assert_eq!(
            locate(src, "states[1].costs.region"),
            Some(Location { line: 9, column: 20 })
        );
        assert_eq!(locate(src, "states[1].id"), Some(Location { line: 8, column: 6 }));
        // A missing key falls back to its parent.
        assert_eq!(
            locate(src, "states[1].costs.nobody"),
            Some(Location { line: 9, column: 9 })
        );
    }
}
