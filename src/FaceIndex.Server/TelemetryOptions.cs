namespace FaceIndex.Server;

/// <summary>
/// OpenTelemetry export (section <c>Telemetry</c>). The server's spans (ASP.NET Core and gRPC requests;
/// <c>vision.decode</c>, <c>vision.detect</c>, <c>vision.align</c>, <c>vision.embed</c>, <c>store.commit</c>,
/// <c>index.search</c>) and metrics (per-stage latency histograms, per-collection counters and search latency)
/// go to an OTLP collector when <see cref="OtlpEndpoint"/> is set. The metrics are on the Prometheus endpoint
/// (<c>Server:MetricsPort</c>) either way.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>OTLP endpoint (gRPC), for example http://127.0.0.1:4317; null (default) exports nothing.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>The service.name resource attribute. Default "faceindex".</summary>
    public string ServiceName { get; set; } = "faceindex";

    /// <summary>Share of traces kept, in [0, 1]. Default 1 (every request).</summary>
    public double TraceSampleRatio { get; set; } = 1.0;

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (OtlpEndpoint is not null && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"Telemetry:OtlpEndpoint must be an absolute URI such as http://127.0.0.1:4317; got '{OtlpEndpoint}'.", nameof(OtlpEndpoint));
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            throw new ArgumentException("Telemetry:ServiceName must not be empty.", nameof(ServiceName));
        }

        if (!(TraceSampleRatio is >= 0 and <= 1))
        {
            throw new ArgumentException($"Telemetry:TraceSampleRatio must lie in [0, 1]; got {TraceSampleRatio}.", nameof(TraceSampleRatio));
        }
    }
}
