using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The server's own spans and per-collection metrics (OpenTelemetry reads them through System.Diagnostics;
/// the Prometheus endpoint shows the metrics too): an <c>index.search</c> span per searched face, the search
/// latency by collection, faces enrolled and searched by collection.
/// </summary>
internal static class ServerTelemetry
{
    public const string Name = "FaceIndex.Server";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter s_meter = new(Name);

    public static readonly Histogram<double> SearchDuration = s_meter.CreateHistogram<double>("faceindex.index.search.duration", "s", "Index search of one face (HNSW graph and unindexed tail), by collection.");

    public static readonly Counter<long> FacesEnrolled = s_meter.CreateCounter<long>("faceindex.collection.faces.enrolled", "{face}", "Faces stored, by collection.");

    public static readonly Counter<long> FacesSearched = s_meter.CreateCounter<long>("faceindex.collection.faces.searched", "{face}", "Faces searched, by collection and outcome (match or unknown).");
}
