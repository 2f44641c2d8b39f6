namespace FaceIndex.Client;

/// <summary>How a <see cref="FaceIndexClient"/> connects: address, API key, deadlines and retries.</summary>
public sealed class FaceIndexClientOptions
{
    /// <summary>The server's gRPC address, for example http://127.0.0.1:50051 (https:// with TLS).</summary>
    public Uri Address { get; set; } = new("http://127.0.0.1:50051");

    /// <summary>API key sent as <c>x-api-key</c> on every call; null when the server runs without keys.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Deadline of a call that does not give its own. Default 30 s.</summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts of a call that failed with Unavailable (the first one included), 1 = no retry. Default 4.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Backoff before the first retry; it doubles up to <see cref="MaxBackoff"/>, with jitter (gRPC retry policy). Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest backoff between retries. Default 5 s.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest message received or sent. Default 64 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 << 20;

    /// <summary>A handler of its own (TLS settings, a test server's handler); null uses a SocketsHttpHandler.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Address);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxAttempts, 5);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DefaultDeadline, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialBackoff, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff);
    }
}
