using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Grpc.Net.Client;

namespace FaceIndex.ConsoleTests;

/// <summary>TLS from configuration: a self-signed certificate made in the test, as PEM files and as PKCS#12.</summary>
public sealed class TlsTests
{
    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=faceindex-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A handler that trusts exactly <paramref name="certificate"/> (and nothing else).</summary>
    private static SocketsHttpHandler Trusting(X509Certificate2 certificate) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
        },
    };

    private static async Task AssertServesOverTlsAsync(LoopbackServer server, X509Certificate2 certificate)
    {
        Assert.StartsWith("https://", server.HttpAddress, StringComparison.Ordinal);
        using (var rest = new Rest(server.HttpAddress, LoopbackServer.Key, Trusting(certificate)))
        {
            var listed = await rest.GetAsync("/v1/collections");
            Assert.Contains(listed["collections"]!.AsArray(), c => c!["name"]!.GetValue<string>() == "default");
        }

        Assert.StartsWith("https://", server.GrpcAddress, StringComparison.Ordinal);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress, new GrpcChannelOptions { HttpHandler = Trusting(certificate) });
        var client = new Protocol.V1.FaceIndex.FaceIndexClient(channel);
        var stats = await client.StatsAsync(new StatsRequest(), new Grpc.Core.Metadata { { "x-api-key", LoopbackServer.Key } });
        Assert.False(string.IsNullOrEmpty(stats.ModelVersion));

        // A client that does not trust the certificate is refused by its own TLS check, not served in clear text.
        using var untrusting = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(new Uri(new Uri(server.HttpAddress), "/v1/collections")));
    }

    [Fact]
    public async Task Pem_certificate_and_key_files_serve_rest_and_grpc_over_tls()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var certificate = SelfSigned();
        var certPath = Path.Combine(dir.Path, "server.crt");
        var keyPath = Path.Combine(dir.Path, "server.key");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using var server = await LoopbackServer.StartAsync("--Server:TlsCertificatePath=" + certPath, "--Server:TlsKeyPath=" + keyPath);
        await AssertServesOverTlsAsync(server, certificate);
    }

    [Fact]
    public async Task A_pfx_with_a_password_serves_over_tls_and_a_wrong_password_stops_the_start_with_the_setting_named()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var certificate = SelfSigned();
        var pfx = Path.Combine(dir.Path, "server.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "s3cret"));

        await using (var server = await LoopbackServer.StartAsync("--Server:TlsCertificatePath=" + pfx, "--Server:TlsPassword=s3cret"))
        {
            await AssertServesOverTlsAsync(server, certificate);
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => LoopbackServer.StartAsync("--Server:TlsCertificatePath=" + pfx, "--Server:TlsPassword=wrong"));
        Assert.Contains("Server:TlsCertificatePath", error.ToString(), StringComparison.Ordinal);
    }
}
