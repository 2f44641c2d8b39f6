using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The pipeline's traces and metrics (read by OpenTelemetry through System.Diagnostics): one span per stage
/// (<c>vision.decode</c>, <c>vision.detect</c>, <c>vision.align</c> for landmarks and warp, <c>vision.embed</c>)
/// and a histogram of stage durations tagged with the stage.
/// </summary>
internal static class VisionTelemetry
{
    public const string Name = "FaceIndex.Vision";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter s_meter = new(Name);

    public static readonly Histogram<double> StageDuration = s_meter.CreateHistogram<double>("faceindex.vision.stage.duration", "s", "Duration of one pipeline stage for one image (embed: all its faces).");

    /// <summary>A stage's span and duration sample; dispose it when the stage ends.</summary>
    public static Stage Start(string stage) => new(stage, Source.StartActivity("vision." + stage), Stopwatch.GetTimestamp());

    internal readonly struct Stage(string name, Activity? activity, long started) : IDisposable
    {
        public Activity? Activity => activity;

        public void Dispose()
        {
            StageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("stage", name));
            activity?.Dispose();
        }
    }
}
