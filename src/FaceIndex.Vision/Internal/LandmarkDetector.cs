using System.Drawing;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// 68-point landmarks (fr_landmark.onnx) reduced to the 5 alignment points. The face box is made
/// square (side = box height, same centre), clipped to the image, resized to 64×64 grayscale
/// (v / 256); the model returns 68 (x, y) pairs normalised to that crop, kept as floats.
/// </summary>
internal sealed class LandmarkDetector : IDisposable
{
    private const int Side = 64;
    private const int Points = 68;

    private readonly OrtWorkerPool _pool;

    public LandmarkDetector(string modelPath, VisionOptions options)
    {
        _pool = new OrtWorkerPool(modelPath, options, options.EffectiveSessions, [1, 1, Side, Side], [("output", [1, 2 * Points])]);
    }

    /// <summary>The 5 points (left eye, right eye, nose tip, left and right mouth corner, as seen in the image) of a face.</summary>
    public PointF[] Detect(RgbImage image, FaceBox box)
    {
        float side = box.Height;
        float cx = box.X + (box.Width / 2), cy = box.Y + (box.Height / 2);
        float x0 = Math.Max(0, cx - (side / 2)), y0 = Math.Max(0, cy - (side / 2));
        float x1 = Math.Min(image.Width, cx + (side / 2)), y1 = Math.Min(image.Height, cy + (side / 2));
        float w = Math.Max(1, x1 - x0), h = Math.Max(1, y1 - y0);

        Span<float> raw = stackalloc float[2 * Points];
        var worker = _pool.Rent();
        try
        {
            Resampler.ResizeToGray(image, x0, y0, w, h, Side, Side, worker.Input);
            worker.Run();
            worker.Outputs[0].AsSpan(0, 2 * Points).CopyTo(raw);
        }
        finally
        {
            _pool.Return(worker);
        }

        return ToFivePoints(raw, x0, y0, w, h);
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
