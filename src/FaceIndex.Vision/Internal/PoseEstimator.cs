namespace FaceIndex.Vision.Internal;

/// <summary>
/// Head pose (fr_pose.onnx, a Hopenet-style classifier): the detector box grown by a quarter of its
/// width and height on every side (cut at the image edges, as the model package crops it), resized to
/// 224×224 RGB, ImageNet-normalised ((v / 255 − mean) / std); three outputs of 66 bins each (yaw,
/// pitch, roll) whose softmax expectation × 3 − 99 is the angle in degrees.
/// </summary>
/// <remarks>
/// Signs, measured with mirrored images (tests/FaceIndex.Vision.Tests QualityTests): mirroring a face
/// flips the sign of yaw and roll and keeps pitch. Yaw is positive when the face turns towards the
/// image's left (the subject looks to their right). RGB order as fed here gives the more symmetric
/// answers: over 80 celeba-dev faces and their mirror images, |yaw + mirrored yaw| averages 3.1° in RGB
/// and 3.9° in BGR (the package's JavaScript swaps the channels of its RGBA canvas, feeding BGR).
/// </remarks>
internal sealed class PoseEstimator : IDisposable
{
    public const int Side = 224;
    private const int Bins = 66;

    private static readonly float[] s_mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] s_std = [0.229f, 0.224f, 0.225f];

    private readonly OrtWorkerPool _pool;

    public PoseEstimator(ModelSource model, VisionOptions options, ProviderPlan plan)
    {
        _pool = new OrtWorkerPool(model, options, plan, options.SessionsFor(plan.Provider), 1, [1, 3, Side, Side], [("output", [1, Bins]), ("617", [1, Bins]), ("618", [1, Bins])]);
    }

    /// <summary>Yaw, pitch and roll in degrees of the face in <paramref name="box"/> (full-size pixels; the image may be decoded at a reduced scale).</summary>
    public HeadPose Estimate(RgbImage image, FaceBox box)
    {
        var (x, y, w, h) = CropOf(image.ToDecoded(box), image.Width, image.Height);
        var worker = _pool.Rent();
        try
        {
            var input = worker.Input;
            Resampler.ResizeToPlanes(image, x, y, w, h, Side, Side, input);
            const int Plane = Side * Side;
            for (int c = 0; c < 3; c++)
            {
                var plane = input.AsSpan(c * Plane, Plane);
                float mean = s_mean[c], inv = 1f / s_std[c];
                for (int i = 0; i < plane.Length; i++)
                {
                    // Resampler writes (v − 127) / 128; back to v / 255, then ImageNet's normalisation.
                    float v = ((plane[i] * 128f) + 127f) / 255f;
                    plane[i] = (v - mean) * inv;
                }
            }

            worker.Run();
            return new HeadPose(Expectation(worker.Outputs[0]), Expectation(worker.Outputs[1]), Expectation(worker.Outputs[2]));
        }
        finally
        {
            _pool.Return(worker);
        }
    }

    /// <summary>The pose crop: the box grown by a quarter of its size on each side, cut at the image edges.</summary>
    internal static (float X, float Y, float Width, float Height) CropOf(FaceBox box, int imageWidth, int imageHeight)
    {
        float x0 = Math.Max(0, box.X - (box.Width / 4)), y0 = Math.Max(0, box.Y - (box.Height / 4));
        float x1 = Math.Min(imageWidth, box.X + box.Width + (box.Width / 4)), y1 = Math.Min(imageHeight, box.Y + box.Height + (box.Height / 4));
        return (x0, y0, Math.Max(1, x1 - x0), Math.Max(1, y1 - y0));
    }

    /// <summary>Softmax over the bins, then the expected bin index × 3 − 99 (degrees).</summary>
    internal static float Expectation(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (var v in logits)
        {
            max = Math.Max(max, v);
        }

        double sum = 0, weighted = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double e = Math.Exp(logits[i] - max);
            sum += e;
            weighted += e * i;
        }

        return (float)((weighted / sum * 3) - 99);
    }

    public void Dispose() => _pool.Dispose();
}
