using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FaceIndex.Server.Internal;

/// <summary>Loads the server's TLS certificate from the files that <see cref="ServerOptions"/> names.</summary>
internal static class TlsCertificate
{
    /// <summary>The certificate with its private key, or null when TLS is off.</summary>
    /// <exception cref="ArgumentException">The files cannot be read as a certificate with a private key; the message names the setting.</exception>
    public static X509Certificate2? Load(ServerOptions options)
    {
        if (options.TlsCertificatePath is not { } path)
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            var extension = Path.GetExtension(path);
            if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.TlsPassword);
            }
            else
            {
                var keyPath = options.TlsKeyPath ?? path;
                using var pem = options.TlsPassword is { } password
                    ? X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
                    : X509Certificate2.CreateFromPemFile(path, keyPath);

                // Kestrel needs a certificate whose key it can use on every platform: export and re-import it.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ArgumentException($"Server:TlsCertificatePath '{path}' cannot be read as a certificate with its private key (PEM with Server:TlsKeyPath, or PKCS#12 .pfx/.p12 with Server:TlsPassword): {ex.Message}", nameof(options), ex);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ArgumentException($"Server:TlsCertificatePath '{path}' holds no private key; give it in Server:TlsKeyPath.", nameof(options));
        }

        return certificate;
    }
}
