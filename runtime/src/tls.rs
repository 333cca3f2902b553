//! TLS for `wss://` and `https://`, through rustls (with the *ring* provider): the
//! server's certificate and key, and the roots a client trusts.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::connection(format!("cannot read certificates from {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::connection(format!("{} holds no PEM certificate", path.display())));
    }
    Ok(certs)
}

/// A server's TLS settings: its certificate chain and private key.
#[derive(Clone)]
pub struct TlsConfig(pub(crate) Arc<rustls::ServerConfig>);

impl TlsConfig {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1
    /// or SEC1), as `certbot` and `openssl` write them. The two may be the same file,
    /// as hat.juggler's `pem_file` is.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, Error> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let chain = read_pem_certs(cert)?;
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| Error::connection(format!("cannot read a private key from {}: {e}", key.display())))?;
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| Error::connection(format!("the certificate in {} and its key do not make a TLS setup: {e}", cert.display())))?;
        Ok(Self::from_rustls(config))
    }

    /// A rustls server configuration of your own (client certificates, several
    /// certificates by name, a resolver that reloads them...). `http/1.1` is added to
    /// its ALPN protocols if it names none.
    pub fn from_rustls(mut config: rustls::ServerConfig) -> Self {
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
        }
        TlsConfig(Arc::new(config))
    }
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig")
    }
}

/// The roots a client trusts for `wss://`: the system's, and any extra CA certificates.
pub(crate) fn client_config(extra_ca: &[std::path::PathBuf]) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    for path in extra_ca {
        for cert in read_pem_certs(path)? {
            roots
                .add(cert)
                .map_err(|e| Error::connection(format!("{} is not a CA certificate rustls can use: {e}", path.display())))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::connection(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
