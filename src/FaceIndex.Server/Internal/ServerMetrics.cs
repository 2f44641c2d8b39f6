using Prometheus;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The server's Prometheus metrics (served on <see cref="ServerOptions.MetricsPort"/> at /metrics):
/// calls and their latency by method and status, faces enrolled, search outcomes, and gauges of
/// the database read at each scrape.
/// </summary>
internal sealed class ServerMetrics
{
    private static readonly double[] s_latencyBuckets = Histogram.ExponentialBuckets(0.0001, 2, 18);

    private readonly Counter _calls = Metrics.CreateCounter("faceindex_grpc_calls_total", "gRPC calls by method and status code.", "method", "code");
    private readonly Histogram _latency = Metrics.CreateHistogram("faceindex_grpc_call_duration_seconds", "gRPC call duration by method.", new HistogramConfiguration { LabelNames = ["method"], Buckets = s_latencyBuckets });
    private readonly Counter _enrolled = Metrics.CreateCounter("faceindex_faces_enrolled_total", "Faces stored by Enroll and EnrollStream.");
    private readonly Counter _searchFaces = Metrics.CreateCounter("faceindex_search_faces_total", "Faces searched, by outcome (match or unknown).", "outcome");
    private readonly Gauge _faces = Metrics.CreateGauge("faceindex_faces", "Live faces in the store.");
    private readonly Gauge _indexed = Metrics.CreateGauge("faceindex_faces_indexed", "Faces in the HNSW graphs.");
    private readonly Gauge _pending = Metrics.CreateGauge("faceindex_faces_pending", "Acknowledged faces not yet in a graph (searched exactly).");
    private readonly Gauge _logBytes = Metrics.CreateGauge("faceindex_store_log_bytes", "Write-ahead log bytes not yet covered by a checkpoint.");

    public ServerMetrics(ServerRuntime runtime)
    {
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
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

    public void Call(string method, string code, double seconds)
    {
        _calls.WithLabels(method, code).Inc();
        _latency.WithLabels(method).Observe(seconds);
    }

    public void Enrolled(int faces) => _enrolled.Inc(faces);

    public void Searched(bool matched) => _searchFaces.WithLabels(matched ? "match" : "unknown").Inc();
}
