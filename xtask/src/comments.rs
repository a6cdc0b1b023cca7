// SPDX-License-Identifier: Apache-2.0
//! Comments blanked out of Rust, SQL and TOML, for checks that look at code only (`layering`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Rust,
    Sql,
    Toml,
}

/// The text with comments blanked out (newlines kept, so line numbers stay). String literals are kept: a name in
/// a string is a use, not a remark.
pub(crate) fn strip_comments(text: &str, language: Language) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let starts = |i: usize, pattern: &str| pattern.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c));
    let line_comment = match language {
        Language::Rust => "//",
        Language::Sql => "--",
        Language::Toml => "#",
    };
    while i < chars.len() {
        let c = chars[i];
        if starts(i, line_comment) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if language != Language::Toml && starts(i, "/*") {
            // Rust block comments nest; SQL's do not, but nesting never appears there.
            let mut depth = 0;
            while i < chars.len() {
                if starts(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if starts(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if language == Language::Rust && c == 'r' && (starts(i + 1, "\"") || starts(i + 1, "#\"")) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let body_start = i + 2 + hashes;
            let mut end = body_start;
            while end < chars.len() && !starts(end, &close) {
                end += 1;
            }
            let end = (end + close.len()).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else if language == Language::Rust && c == '\'' {
            // A char literal ('x', '\n', '"') is copied whole so its quote cannot open a string; a lifetime is
            // just a quote.
            let length = if chars.get(i + 1) == Some(&'\\') {
                chars[i + 2..].iter().position(|&q| q == '\'').map(|p| p + 3)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            let end = (i + length.unwrap_or(1)).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '"' || (language != Language::Rust && c == '\'') {
            let quote = c;
            out.push(c);
            i += 1;
            while i < chars.len() && chars[i] != quote {
                if chars[i] == '\\' && language != Language::Sql && i + 1 < chars.len() {
                    out.push(chars[i]);
                    i += 1;
                }
                out.push(chars[i]);
                i += 1;
            }
            if i < chars.len() {
                out.push(chars[i]);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_blanked_and_strings_kept() {
        let rust = "let a = \"kafka\"; // Kafka here\n/* Kafka\n /* nested */ kafka */ let b = 'k';\n/// kafka doc\nfn f<'a>(x: &'a str) -> char { '\"' } // kafka\nlet c = r#\"// kafka\"#;\n";
        let stripped = strip_comments(rust, Language::Rust);
        let hits: Vec<usize> =
            stripped.lines().enumerate().filter(|(_, l)| l.contains("kafka")).map(|(n, _)| n + 1).collect();
        assert_eq!(hits, vec![1, 6], "{stripped}");
        assert_eq!(stripped.lines().count(), rust.lines().count(), "line numbers survive");
        let sql = "-- Kafka grants\nCREATE TABLE dsc_kafka_grant (note TEXT DEFAULT '-- not a comment');\n";
        let stripped = strip_comments(sql, Language::Sql);
        assert!(!stripped.lines().next().unwrap_or_default().contains("Kafka"));
        assert!(stripped.contains("dsc_kafka_grant") && stripped.contains("'-- not a comment'"));
        let toml = "# Kafka\nrdkafka = \"0.39\" # kafka client\nname = \"a#kafka\"\n";
        let stripped = strip_comments(toml, Language::Toml);
        assert_eq!(stripped, "\nrdkafka = \"0.39\" \nname = \"a#kafka\"\n");
    }
}
