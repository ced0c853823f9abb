//! The access token format: `mcs_` + 30 random base62 characters + 6 base62 characters of
//! CRC32 over the rest, as GitHub's and Grafana's tokens carry a prefix and a checksum: a
//! secret scanner recognises a leaked token by its prefix and confirms it by its checksum
//! without asking the server, and a mistyped token is refused before any lookup.

/// The prefix every Marcus token starts with.
pub const PREFIX: &str = "mcs_";
/// Random base62 characters after the prefix (about 178 bits).
pub const RANDOM_CHARS: usize = 30;
/// Base62 characters of the checksum at the end.
pub const CHECKSUM_CHARS: usize = 6;
/// The length of a whole token.
pub const LENGTH: usize = PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;
/// Characters of the random part that name the token's record: enough to find it, too few
/// to use it (the rest of the random part stays secret).
pub const LOOKUP_CHARS: usize = 12;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a string is not a Marcus token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// It does not start with [`PREFIX`].
    Prefix,
    /// It is not [`LENGTH`] characters of base62 after the prefix.
    Shape,
    /// Its checksum does not match: mistyped or made up.
    Checksum,
    /// The random bytes given ran out before the token was complete.
    NotEnoughRandomness,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Malformed::Prefix => "not a Marcus token (they start with mcs_)",
            Malformed::Shape => "not a Marcus token (wrong length or characters)",
            Malformed::Checksum => {
                "the token's checksum does not match: it was mistyped or made up"
            }
            Malformed::NotEnoughRandomness => "not enough random bytes to make a token",
        })
    }
}

impl std::error::Error for Malformed {}

/// A well-formed token: its text and the part that names its record.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    text: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A token in a log or a panic message would be a leaked credential.
        write!(f, "Token({PREFIX}{}…)", self.lookup())
    }
}

impl Token {
    /// A new token from `random` bytes (a system source; 64 bytes are always enough: each
    /// byte is used only when it maps to the alphabet without bias).
    pub fn from_random(random: &[u8]) -> Result<Self, Malformed> {
        let mut body = String::with_capacity(RANDOM_CHARS);
        // 248 = 4 × 62: bytes below it map onto the alphabet evenly.
        for b in random.iter().filter(|b| **b < 248) {
            if body.len() == RANDOM_CHARS {
                break;
            }
            body.push(ALPHABET[usize::from(*b) % 62] as char);
        }
        if body.len() < RANDOM_CHARS {
            return Err(Malformed::NotEnoughRandomness);
        }
        let checksum = checksum(&format!("{PREFIX}{body}"));
        Ok(Self {
            text: format!("{PREFIX}{body}{checksum}"),
        })
    }

    /// Reads a presented token, checking its prefix, shape and checksum.
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let rest = text.strip_prefix(PREFIX).ok_or(Malformed::Prefix)?;
        if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS
            || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Malformed::Shape);
        }
        let (body, sum) = rest.split_at(RANDOM_CHARS);
        if checksum(&format!("{PREFIX}{body}")) != sum {
            return Err(Malformed::Checksum);
        }
        Ok(Self {
            text: text.to_string(),
        })
    }

    /// The token's text: shown once when it is made, then only ever presented by clients.
    pub fn reveal(&self) -> &str {
        &self.text
    }

    /// The start of the random part, which names the token's stored record.
    pub fn lookup(&self) -> &str {
        &self.text[PREFIX.len()..PREFIX.len() + LOOKUP_CHARS]
    }
}

/// CRC32 of `text` as [`CHECKSUM_CHARS`] base62 characters (zero-padded).
fn checksum(text: &str) -> String {
    let mut n = u64::from(crc32fast::hash(text.as_bytes()));
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("the alphabet is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(seed: u8) -> Vec<u8> {
        (0..64u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn a_made_token_has_the_prefix_the_length_and_parses_back() {
        let t = Token::from_random(&random(1)).unwrap();
        assert!(t.reveal().starts_with("mcs_"));
        assert_eq!(t.reveal().len(), LENGTH);
        assert_eq!(Token::parse(t.reveal()).unwrap(), t);
        assert_eq!(t.lookup().len(), LOOKUP_CHARS);
        assert_ne!(Token::from_random(&random(2)).unwrap(), t);
    }

    #[test]
    fn any_changed_character_fails_the_checksum_or_the_shape() {
        let t = Token::from_random(&random(3)).unwrap();
        let text = t.reveal().to_string();
        for i in PREFIX.len()..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(Token::parse(&changed).is_err(), "position {i}: {changed}");
        }
        assert_eq!(Token::parse("ghp_abc"), Err(Malformed::Prefix));
        assert_eq!(Token::parse("mcs_short"), Err(Malformed::Shape));
        assert_eq!(Token::parse(&format!("{text}x")), Err(Malformed::Shape));
        let mut swapped = text.clone().into_bytes();
        swapped[PREFIX.len() + 2] = b'-';
        assert_eq!(
            Token::parse(&String::from_utf8(swapped).unwrap()),
            Err(Malformed::Shape)
        );
    }

    #[test]
    fn the_debug_form_never_shows_the_secret_part() {
        let t = Token::from_random(&random(4)).unwrap();
        let shown = format!("{t:?}");
        assert!(
            !shown.contains(&t.reveal()[PREFIX.len() + LOOKUP_CHARS..]),
            "{shown}"
        );
    }

    #[test]
    fn too_few_random_bytes_are_refused() {
        assert_eq!(
            Token::from_random(&[1; 10]),
            Err(Malformed::NotEnoughRandomness)
        );
        assert_eq!(
            Token::from_random(&[250; 64]),
            Err(Malformed::NotEnoughRandomness)
        );
    }
}
