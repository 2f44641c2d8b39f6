using System.Drawing;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// 68-point landmarks (fr_landmark.onnx) reduced to the 5 alignment points. The model reads the
/// detector's box itself (width × height, not made square), moved inside the image where it
/// overhangs an edge, resized to 64×64 grayscale (BT.601 luma, v / 256); it returns 68 (x, y) pairs
/// normalised to that crop, kept as floats.
/// </summary>
/// <remarks>
/// The box crop is how the model package feeds it; a square crop of side = box height, tried first,
/// stretches the face differently and costs 0.2–0.3 points of verification accuracy on celeba-dev.
/// </remarks>
internal sealed class LandmarkDetector : IDisposable
{
    private const int Side = 64;
    private const int Points = 68;

    private readonly OrtWorkerPool _pool;

    public LandmarkDetector(ModelSource model, VisionOptions options, ProviderPlan plan)
    {
        _pool = new OrtWorkerPool(model, options, plan, options.SessionsFor(plan.Provider), options.EffectiveMaxBatch(plan.Provider), [1, 1, Side, Side], [("output", [1, 2 * Points])]);
    }

    /// <summary>The model's workers (benchmarks time bare inference on them).</summary>
    public OrtWorkerPool Pool => _pool;

    /// <summary>The execution provider the model runs on.</summary>
    public ExecutionProvider Provider => _pool.Provider;

    /// <summary>Why the model fell back to the CPU, or null.</summary>
    public string? FallbackReason => _pool.FallbackReason;

    /// <summary>The 5 points (left eye, right eye, nose tip, left and right mouth corner, as seen in the image) of a face.</summary>
    public PointF[] Detect(RgbImage image, FaceBox box) => DetectAll(image, [box])[0];

    /// <summary>
    /// The 5 points of each face, boxes and points in full-size pixels; the faces of the image run as
    /// batches of the model (dynamic batch) of up to the pool's batch limit.
    /// </summary>
    public PointF[][] DetectAll(RgbImage image, IReadOnlyList<FaceBox> boxes)
    {
        var points = new PointF[boxes.Count][];
        var worker = _pool.Rent();
        try
        {
            for (int start = 0; start < boxes.Count; start += worker.MaxBatch)
            {
                int n = Math.Min(worker.MaxBatch, boxes.Count - start);
                for (int i = 0; i < n; i++)
                {
                    var (x0, y0, w, h) = CropOf(Scaled(boxes[start + i], image.Scale), image.Width, image.Height);
                    Resampler.ResizeToGray(image, x0, y0, w, h, Side, Side, worker.Input.AsSpan(i * Side * Side, Side * Side));
                }

                worker.Run(n);
                for (int i = 0; i < n; i++)
                {
                    var (x0, y0, w, h) = CropOf(Scaled(boxes[start + i], image.Scale), image.Width, image.Height);
                    var raw = worker.Outputs[0].AsSpan(i * 2 * Points, 2 * Points);
                    float s = 1f / image.Scale;
                    points[start + i] = ToFivePoints(raw, x0 * s, y0 * s, w * s, h * s);
                }
            }
        }
        finally
        {
            _pool.Return(worker);
        }

        return points;
    }

    private static FaceBox Scaled(FaceBox box, float scale) =>
        scale == 1f ? box : new FaceBox(box.X * scale, box.Y * scale, box.Width * scale, box.Height * scale);

    /// <summary>The landmark crop of a box: the box, shifted (not shrunk) to lie inside the image where it can.</summary>
    internal static (float X, float Y, float Width, float Height) CropOf(FaceBox box, int imageWidth, int imageHeight)
    {
        float w = Math.Clamp(box.Width, 1, imageWidth), h = Math.Clamp(box.Height, 1, imageHeight);
        float x = Math.Clamp(box.X, 0, imageWidth - w), y = Math.Clamp(box.Y, 0, imageHeight - h);
        return (x, y, w, h);
    }

    /// <summary>
    /// Eye centres = mean of points 37, 38, 40, 41 and of 43, 44, 46, 47 (0-based, iBUG-68 order);
    /// nose tip = 30; mouth corners = mean of 48 and 60, and of 54 and 64.
    /// </summary>
    internal static PointF[] ToFivePoints(ReadOnlySpan<float> raw, float x0, float y0, float w, float h)
    {
        return
        [
            Mean(raw, x0, y0, w, h, 37, 38, 40, 41),
            Mean(raw, x0, y0, w, h, 43, 44, 46, 47),
            Mean(raw, x0, y0, w, h, 30),
            Mean(raw, x0, y0, w, h, 48, 60),
            Mean(raw, x0, y0, w, h, 54, 64),
        ];
    }

    /// <summary>Mean of the given landmarks, mapped from crop-normalised to image coordinates.</summary>
    private static PointF Mean(ReadOnlySpan<float> raw, float x0, float y0, float w, float h, params ReadOnlySpan<int> indices)
    {
        float x = 0, y = 0;
        foreach (int i in indices)
        {
            x += raw[2 * i];
            y += raw[(2 * i) + 1];
        }

        return new PointF(x0 + (x / indices.Length * w), y0 + (y / indices.Length * h));
    }

    public void Dispose() => _pool.Dispose();
}
