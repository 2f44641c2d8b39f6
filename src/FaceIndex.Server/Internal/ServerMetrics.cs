using Prometheus;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The server's Prometheus metrics (served on <see cref="ServerOptions.MetricsPort"/> at /metrics):
/// calls and their latency by method and status, faces enrolled, search outcomes, gauges of the
/// database read at each scrape, and the .NET runtime's own. Each server has a registry of its own,
/// so that several servers in one process (tests, benchmarks) do not share counters.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    private static readonly double[] s_latencyBuckets = Histogram.ExponentialBuckets(0.0001, 2, 18);

    private readonly Counter _calls;
    private readonly Histogram _latency;
    private readonly Counter _enrolled;
    private readonly Counter _searchFaces;
    private readonly Gauge _faces;
    private readonly Gauge _indexed;
    private readonly Gauge _pending;
    private readonly Gauge _logBytes;
    private readonly MeterBridge _meters;

    public ServerMetrics(ServerRuntime runtime)
    {
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var factory = Metrics.WithCustomRegistry(Registry);
        _calls = factory.CreateCounter("faceindex_grpc_calls_total", "gRPC calls by method and status code.", "method", "code");
        _latency = factory.CreateHistogram("faceindex_grpc_call_duration_seconds", "gRPC call duration by method.", new HistogramConfiguration { LabelNames = ["method"], Buckets = s_latencyBuckets });
        _enrolled = factory.CreateCounter("faceindex_faces_enrolled_total", "Faces stored by Enroll and EnrollStream.");
        _searchFaces = factory.CreateCounter("faceindex_search_faces_total", "Faces searched, by outcome (match or unknown).", "outcome");
        _faces = factory.CreateGauge("faceindex_faces", "Live faces in the store.");
        _indexed = factory.CreateGauge("faceindex_faces_indexed", "Faces in the HNSW graphs.");
        _pending = factory.CreateGauge("faceindex_faces_pending", "Acknowledged faces not yet in a graph (searched exactly).");
        _logBytes = factory.CreateGauge("faceindex_store_log_bytes", "Write-ahead log bytes not yet covered by a checkpoint.");
        // The pipeline's, the store's and the server's System.Diagnostics.Metrics instruments (per-stage
        // latencies, per-collection counters; what OpenTelemetry exports) are published on the same endpoint.
        _meters = new MeterBridge(factory);
        Registry.AddBeforeCollectCallback(() =>
        {
            if (runtime.TryGetDatabase(out var database))
            {
                var stats = database.GetStoreStats();
                _faces.Set(stats.Faces);
                _logBytes.Set(stats.LogBytes);
                _indexed.Set(database.IndexedFaces);
                _pending.Set(database.PendingFaces);
            }
        });
    }

    public void Dispose() => _meters.Dispose();

    /// <summary>The registry the /metrics endpoint serves.</summary>
    public CollectorRegistry Registry { get; }

    public void Call(string method, string code, double seconds)
    {
        _calls.WithLabels(method, code).Inc();
        _latency.WithLabels(method).Observe(seconds);
    }

    public void Enrolled(int faces) => _enrolled.Inc(faces);

    public void Searched(bool matched) => _searchFaces.WithLabels(matched ? "match" : "unknown").Inc();
}
