//! How the command line reaches a server: the options every command that connects
//! shares (`-H 'Name: value'`, `--cacert FILE`), and errors that name what went wrong
//! with a server's certificate.
//!
//! The same options mean the same thing whether the command opens a WebSocket
//! (`volley call`) or fetches the schema over HTTP (`volley schema`, `volley
//! generate`): the headers go on every request to the server, and the CA certificates
//! in `--cacert` are trusted in addition to the system's root certificates.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;

/// The connection options of every command that talks to a server.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectArgs {
    /// A header to send to the server, `Name: value` (a token, a cookie); repeatable.
    ///
    /// It goes on the WebSocket upgrade (`volley call`) and on the `GET` of the schema
    /// (`volley schema`, `volley generate`), where the server's connection hooks check
    /// credentials: -H 'Authorization: Bearer TOKEN'.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header, help_heading = "Connection")]
    pub headers: Vec<Header>,
    /// Also trust the CA certificates in this PEM file, for https:// and wss://.
    ///
    /// For a server whose certificate comes from a private CA, or is self-signed (then
    /// the file is that certificate). The system's root certificates stay trusted.
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub cacert: Option<PathBuf>,
}

/// A request header, as given with `-H 'Name: value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header's name, as given (HTTP compares names without regard to case).
    pub name: String,
    /// Its value, without surrounding white space.
    pub value: String,
}

/// Parses `Name: value` (as curl's `-H` takes it) into a header, checking that the
/// name is an HTTP token and the value can be sent.
pub fn parse_header(text: &str) -> Result<Header, String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!("`{text}` is not `Name: value` (a colon separates the header's name from its value)"));
    };
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() {
        return Err(format!("`{text}` is not `Name: value`: the name is empty"));
    }
    if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"));
    }
    if ureq::http::HeaderValue::from_str(value).is_err() {
        return Err(format!("the value of header `{name}` holds characters a header cannot carry"));
    }
    Ok(Header { name: name.to_owned(), value: value.to_owned() })
}

/// What a command needs to connect: the headers, and the CA certificates read from
/// `--cacert` (already checked).
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Headers for every request.
    pub headers: Vec<Header>,
    /// The `--cacert` file, and the certificates it holds.
    pub cacert: Option<CaFile>,
}

/// A `--cacert` file that has been read.
#[derive(Debug, Clone)]
pub struct CaFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its certificates, in DER.
    pub certs: Vec<ureq::tls::Certificate<'static>>,
}

/// The WebSocket URL of a server given by its `http(s)://` or `ws(s)://` URL.
pub fn ws_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_owned()
    }
}

/// Opens a WebSocket to the server at `url` (`ws(s)://` or `http(s)://`) with the
/// connection's headers and CA certificates. A failure is a sentence that says what to
/// do about a refused certificate or missing credentials.
pub async fn open(url: &str, encoding: volley::Encoding, connection: &Connection) -> Result<volley::Client, String> {
    let url = ws_url(url);
    let mut builder = volley::Client::builder(&url).encoding(encoding);
    for h in &connection.headers {
        builder = builder.header(&h.name, &h.value);
    }
    if let Some(ca) = &connection.cacert {
        builder = builder.ca_cert(&ca.path);
    }
    builder.connect().await.map_err(|e| connect_failure(&url, &e.message, connection))
}

/// A failed connection in words, with what to do about a refused certificate or
/// missing credentials.
fn connect_failure(url: &str, message: &str, connection: &Connection) -> String {
    let mut text = format!("cannot connect to {url}: {message}");
    if let Some(hint) = certificate_hint(message, connection.cacert.as_ref().map(|c| c.path.as_path())) {
        text.push_str(&format!("\n{hint}"));
    } else if message.contains(" 401 ") || message.contains(" 403 ") {
        text.push_str(if connection.headers.is_empty() {
            "\nthe server wants credentials: pass them with -H 'Name: value', as in -H 'Authorization: Bearer TOKEN'"
        } else {
            "\nthe server refused the credentials given with -H"
        });
    }
    text
}

impl ConnectArgs {
    /// Reads and checks the `--cacert` file, so that a missing or unusable one is
    /// reported before anything connects.
    pub fn connection(&self) -> Result<Connection, CaError> {
        let cacert = self.cacert.as_deref().map(read_ca_file).transpose()?;
        Ok(Connection { headers: self.headers.clone(), cacert })
    }
}

/// Why a `--cacert` file cannot be used.
#[derive(Debug)]
pub struct CaError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot use --cacert {}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for CaError {}

/// Reads the PEM certificates of `path`, each of which must be a certificate rustls
/// can use as a trust anchor.
pub fn read_ca_file(path: &Path) -> Result<CaFile, CaError> {
    let fail = |reason: String| CaError { path: path.to_owned(), reason };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {} // a private key beside the certificate, as some bundles have
            Err(e) => return Err(fail(format!("it is not valid PEM: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate (a `-----BEGIN CERTIFICATE-----` block)".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (n, cert) in certs.iter().enumerate() {
        roots
            .add(rustls::pki_types::CertificateDer::from(cert.der()))
            .map_err(|e| fail(format!("certificate {} of the file cannot be used as a CA: {e}", n + 1)))?;
    }
    Ok(CaFile { path: path.to_owned(), certs })
}

/// The roots to trust for https://: the system's (as `volley call` trusts for wss://)
/// and those of `--cacert`. Where the system has no root certificates to read, and no
/// `--cacert` is given, ureq's bundled Mozilla roots.
pub fn root_certs(cacert: Option<&CaFile>) -> ureq::tls::RootCerts {
    let native = rustls_native_certs::load_native_certs().certs;
    let mut certs: Vec<ureq::tls::Certificate<'static>> =
        native.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
    if let Some(ca) = cacert {
        certs.extend(ca.certs.iter().cloned());
    }
    if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::new_with_certs(&certs)
    }
}

/// What is wrong with the server's certificate, in words, with what to do about it;
/// `host` is the name connected to, `cacert` the `--cacert` file if one was given.
pub fn explain_certificate(error: &rustls::CertificateError, host: &str, cacert: Option<&Path>) -> String {
    use rustls::CertificateError as E;
    match error {
        E::UnknownIssuer => {
            let trusted = match cacert {
                Some(p) => format!("neither by the system's root certificates nor by {}", p.display()),
                None => "by none of the system's root certificates".into(),
            };
            let hint = match cacert {
                Some(_) => "check that the file holds the CA that issued the server's certificate",
                None => "if the server uses a private CA or a self-signed certificate, pass it with --cacert FILE",
            };
            format!("the server's certificate is not trusted: it is signed by an unknown issuer (UnknownIssuer), {trusted}; {hint}")
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            let names = match error {
                E::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                    format!(" (it names {})", presented.join(", "))
                }
                _ => String::new(),
            };
            format!(
                "the server's certificate is not valid for the host name `{host}`{names} (NotValidForName); \
                 connect with a name the certificate holds"
            )
        }
        E::BadSignature => {
            let hint = match cacert {
                Some(p) => format!("check that {} holds the CA that issued the server's certificate", p.display()),
                None => "if the server uses a private CA, pass it with --cacert FILE".into(),
            };
            format!(
                "the server's certificate is not trusted: its signature does not verify against the CA \
                 certificate that bears its issuer's name (BadSignature); {hint}"
            )
        }
        E::Expired | E::ExpiredContext { .. } => {
            format!("the server's certificate has expired (Expired): {error}")
        }
        E::NotValidYet | E::NotValidYetContext { .. } => {
            format!("the server's certificate is not valid yet (NotValidYet): {error}; check this machine's clock")
        }
        other => format!(
            "the server's certificate was refused: {other}; if the server uses a private CA, pass it with --cacert FILE"
        ),
    }
}

/// A hint to add to a connection error that reports a refused certificate in the
/// words of rustls (`invalid peer certificate: UnknownIssuer`), as `volley call`'s
/// WebSocket client does.
pub fn certificate_hint(message: &str, cacert: Option<&Path>) -> Option<&'static str> {
    if message.contains("UnknownIssuer") {
        Some(match cacert {
            None => "the server's certificate is signed by an unknown issuer; if the server uses a private CA or a self-signed certificate, pass it with --cacert FILE",
            Some(_) => "the server's certificate is signed by an unknown issuer: check that the --cacert file holds the CA that issued it",
        })
    } else if message.contains("NotValidForName") || message.contains("not valid for name") {
        Some("the server's certificate is not valid for the host name in the URL; connect with a name the certificate holds")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        assert_eq!(
            parse_header("Authorization:  Bearer a:b ").unwrap(),
            Header { name: "Authorization".into(), value: "Bearer a:b".into() }
        );
        assert_eq!(parse_header("x-empty:").unwrap().value, "");
        assert!(parse_header("no-colon").unwrap_err().contains("not `Name: value`"));
        assert!(parse_header(": v").unwrap_err().contains("the name is empty"));
        assert!(parse_header("two words: v").unwrap_err().contains("not a valid header name"));
        assert!(parse_header("x: a\nb").unwrap_err().contains("cannot carry"));
    }

    #[test]
    fn a_cacert_file_must_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("volley-cacert-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = read_ca_file(&missing).unwrap_err();
        assert!(e.to_string().starts_with(&format!("cannot use --cacert {}: ", missing.display())), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "hello\n").unwrap();
        assert!(read_ca_file(&empty).unwrap_err().reason.contains("no PEM certificate"));
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        assert!(read_ca_file(&garbage).unwrap_err().reason.contains("cannot be used as a CA"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
