namespace FaceIndex.Server;

/// <summary>
/// Settings of the gRPC host (section <c>Server</c>). Defaults are the embedded defaults that
/// <c>faceindex serve</c> runs on: gRPC on 127.0.0.1:50051, metrics on 127.0.0.1:9090.
/// </summary>
/// <remarks>
/// <para>Adding a setting, anywhere in the server:</para>
/// <list type="number">
/// <item>add the property to the options class of its section (<see cref="ServerOptions"/>, <see cref="AuthOptions"/>,
/// <see cref="FaceIndex.Engine.IndexingOptions"/>, <c>IndexOptions</c>, <c>StorageOptions</c>, <c>VisionOptions</c>) with its default and a
/// <c>///</c> line saying what it does, its unit and what it trades;</item>
/// <item>check its range in that class's <c>Validate</c>, with a message that names <c>Section:Setting</c>;</item>
/// <item>use it where the component is built (the libraries get the options object; they never read configuration);</item>
/// <item>add it to config/appsettings.json and to the README's configuration table.</item>
/// </list>
/// <para>Every setting can be given in config/appsettings.json, as an environment variable
/// (<c>FACEINDEX__Section__Setting</c>) or on the command line (<c>--Section:Setting=value</c>), later ones winning.</para>
/// </remarks>
public sealed class ServerOptions
{
    /// <summary>Address the gRPC endpoint binds to. Default 127.0.0.1 (use 0.0.0.0 in a container).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Port of the gRPC endpoint (HTTP/2 without TLS); 0 takes any free port. Default 50051.</summary>
    public int Port { get; set; } = 50051;

    /// <summary>Port of the Prometheus endpoint (<c>/metrics</c>, HTTP/1.1) on the same address; 0 turns it off. Default 9090.</summary>
    public int MetricsPort { get; set; } = 9090;

    /// <summary>
    /// Port of the HTTP/1.1 endpoint on the same address: the REST/JSON API (gRPC JSON transcoding under
    /// <c>/v1/</c>), its OpenAPI document (<c>/openapi/v1.json</c>) and the web console (<c>/console/</c>);
    /// 0 turns it off. Default 8080.
    /// </summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>
    /// TLS certificate for both endpoints: a PEM file (with <see cref="TlsKeyPath"/>, or holding the key
    /// itself) or a PKCS#12 (.pfx/.p12) file; null (default) serves plain HTTP. With TLS, the gRPC port also
    /// speaks HTTP/1.1 (negotiated by ALPN).
    /// </summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/>, when the certificate file does not hold it.</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>Password of a PKCS#12 certificate or of an encrypted PEM key; null when there is none.</summary>
    public string? TlsPassword { get; set; }

    /// <summary>Largest request message, in bytes; a larger one is refused with ResourceExhausted. Default 16 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 16 << 20;

    /// <summary>
    /// Squared L2 distance under which a Search candidate is a match; null (default) uses the model
    /// bundle's identification threshold (chosen at a false-accept rate of 0.1 % per comparison). Lower it
    /// for large galleries. A request may pass its own.
    /// </summary>
    public float? MatchThreshold { get; set; }

    /// <summary>
    /// Squared L2 distance under which Verify says "same person"; null (default) uses the model bundle's
    /// verification threshold (the most accurate on balanced same/different pairs). A request may pass its own.
    /// </summary>
    public float? VerifyThreshold { get; set; }

    /// <summary>Matches per face when a Search does not say. Default 5.</summary>
    public int DefaultTopK { get; set; } = 5;

    /// <summary>Most matches per face a Search may ask for. Default 1,000.</summary>
    public int MaxTopK { get; set; } = 1000;

    /// <summary>Requests of one EnrollStream processed at the same time (results still come back in order). Default 256.</summary>
    public int EnrollStreamWindow { get; set; } = 256;

    /// <summary>How long a graceful shutdown waits for running requests before it checkpoints and exits. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Serve gRPC server reflection (grpcurl can list and call the API without the .proto). Default true.</summary>
    public bool Reflection { get; set; } = true;

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Address) && System.Net.IPAddress.TryParse(Address, out _), nameof(Address), "must be an IP address such as 127.0.0.1 or 0.0.0.0");
        Require(Port is >= 0 and <= 65535, nameof(Port), "must lie in [0, 65535] (0 = any free port)");
        Require(MetricsPort is >= 0 and <= 65535 && (MetricsPort == 0 || MetricsPort != Port), nameof(MetricsPort), "must lie in [0, 65535] (0 = off) and differ from Server:Port");
        Require(HttpPort is >= 0 and <= 65535 && (HttpPort == 0 || (HttpPort != Port && HttpPort != MetricsPort)), nameof(HttpPort), "must lie in [0, 65535] (0 = off) and differ from Server:Port and Server:MetricsPort");
        Require(TlsCertificatePath is null || File.Exists(TlsCertificatePath), nameof(TlsCertificatePath), $"names a file that does not exist ('{TlsCertificatePath}')");
        Require(TlsKeyPath is null || (TlsCertificatePath is not null && File.Exists(TlsKeyPath)), nameof(TlsKeyPath), $"needs Server:TlsCertificatePath and must name an existing PEM key file ('{TlsKeyPath}')");
        Require(MaxMessageBytes is >= 1024 and <= 1 << 30, nameof(MaxMessageBytes), "must lie in [1 KiB, 1 GiB]");
        Require(MatchThreshold is null || (float.IsFinite(MatchThreshold.Value) && MatchThreshold.Value is >= 0f and <= 4f), nameof(MatchThreshold), "must be a squared L2 distance in [0, 4]");
        Require(VerifyThreshold is null || (float.IsFinite(VerifyThreshold.Value) && VerifyThreshold.Value is >= 0f and <= 4f), nameof(VerifyThreshold), "must be a squared L2 distance in [0, 4]");
        Require(DefaultTopK is >= 1 && DefaultTopK <= MaxTopK, nameof(DefaultTopK), "must lie in [1, Server:MaxTopK]");
        Require(MaxTopK is >= 1 and <= 10_000, nameof(MaxTopK), "must lie in [1, 10,000]");
        Require(EnrollStreamWindow is >= 1 and <= 65_536, nameof(EnrollStreamWindow), "must lie in [1, 65,536]");
        Require(ShutdownTimeout >= TimeSpan.Zero && ShutdownTimeout <= TimeSpan.FromMinutes(10), nameof(ShutdownTimeout), "must lie in [0, 10 minutes]");
    }

    private static void Require(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"Server:{name} {rule}.", name);
        }
    }
}
