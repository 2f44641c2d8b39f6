using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Publishes FaceIndex's System.Diagnostics.Metrics instruments (meters named <c>FaceIndex.*</c>: per-stage
/// latency histograms, per-collection counters) on the server's Prometheus registry: a histogram becomes a
/// Prometheus histogram, a counter a counter, with the measurement's tags as labels. The instrument name's
/// dots become underscores (<c>faceindex.index.search.duration</c> → <c>faceindex_index_search_duration_seconds</c>).
/// </summary>
internal sealed class MeterBridge : IDisposable
{
    private static readonly double[] s_buckets = Histogram.ExponentialBuckets(0.00005, 2, 20);

    private readonly IMetricFactory _factory;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Func<string[], Action<double>>> _sinks = new();

    public MeterBridge(IMetricFactory factory)
    {
        _factory = factory;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("FaceIndex.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var names = new string[tags.Length];
        var values = new string[tags.Length];
        for (int i = 0; i < tags.Length; i++)
        {
            names[i] = tags[i].Key;
            values[i] = tags[i].Value?.ToString() ?? "";
        }

        try
        {
            var sink = _sinks.GetOrAdd(instrument, i => Create(i, names));
            sink(values)(value);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A measurement with other tags than the instrument's first one (or a name clash) is not
            // published; it must never fail the request that recorded it.
        }
    }

    private Func<string[], Action<double>> Create(Instrument instrument, string[] labelNames)
    {
        var name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s")
        {
            name += "_seconds";
        }

        var help = instrument.Description ?? instrument.Name;
        if (instrument is Histogram<double> or Histogram<int> or Histogram<long>)
        {
            var buckets = instrument.Unit == "s" ? s_buckets : Histogram.ExponentialBuckets(1, 2, 16);
            var histogram = _factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labelNames, Buckets = buckets });
            return labels => histogram.WithLabels(labels).Observe;
        }

        var counter = _factory.CreateCounter(name + "_total", help, labelNames);
        return labels => counter.WithLabels(labels).Inc;
    }
}
