//! Spring profile expressions (`prod`, `!dev`, `a & b`, `a | (b & !c)`), as used by
//! `spring.config.activate.on-profile`.

/// Whether `expression` holds for the `active` profiles; `Err` is the rule it breaks.
pub(crate) fn matches(expression: &str, active: &[String]) -> Result<bool, String> {
    let tokens = tokenize(expression);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        active,
    };
    let value = parser.or()?;
    if parser.at != tokens.len() {
        return Err(RULE.to_owned());
    }
    Ok(value)
}

const RULE: &str =
    "expected a profile expression such as `prod`, `!dev`, `a & b` or `a | (b & !c)`";

#[derive(Debug, PartialEq)]
enum Token {
    Name(String),
    Not,
    And,
    Or,
    Open,
    Close,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut name = String::new();
    let flush = |name: &mut String, tokens: &mut Vec<Token>| {
        if !name.is_empty() {
            tokens.push(Token::Name(std::mem::take(name)));
        }
    };
    for c in text.chars() {
        let token = match c {
            '!' => Some(Token::Not),
            '&' => Some(Token::And),
            '|' => Some(Token::Or),
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            c if c.is_whitespace() => None,
            c => {
                name.push(c);
                continue;
            }
        };
        flush(&mut name, &mut tokens);
        tokens.extend(token);
    }
    flush(&mut name, &mut tokens);
    tokens
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    active: &'a [String],
}

impl Parser<'_> {
    fn eat(&mut self, token: &Token) -> bool {
        let hit = self.tokens.get(self.at) == Some(token);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut value = self.and()?;
        while self.eat(&Token::Or) {
            value |= self.and()?;
        }
        Ok(value)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut value = self.unary()?;
        while self.eat(&Token::And) {
            value &= self.unary()?;
        }
        Ok(value)
    }

    fn unary(&mut self) -> Result<bool, String> {
        if self.eat(&Token::Not) {
            return Ok(!self.unary()?);
        }
        if self.eat(&Token::Open) {
            let value = self.or()?;
            return if self.eat(&Token::Close) {
                Ok(value)
            } else {
                Err(RULE.to_owned())
            };
        }
        match self.tokens.get(self.at) {
            Some(Token::Name(name)) => {
                self.at += 1;
                Ok(self.active.iter().any(|a| a == name))
            }
            _ => Err(RULE.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        let active = vec!["prod".to_owned(), "eu".to_owned()];
        let check = |e: &str| matches(e, &active);
        assert_eq!(check("prod"), Ok(true));
        assert_eq!(check("docker"), Ok(false));
        assert_eq!(check("!docker"), Ok(true));
        assert_eq!(check("prod & eu"), Ok(true));
        assert_eq!(check("prod & !eu"), Ok(false));
        assert_eq!(check("docker | eu"), Ok(true));
        assert_eq!(check("(docker | prod) & !us"), Ok(true));
        assert!(check("prod &").is_err());
        assert!(check("(prod").is_err());
        assert!(check("").is_err());
    }
}
