namespace FaceIndex.Vision.Internal;

/// <summary>A raw detection: box in image pixels and face probability.</summary>
internal readonly record struct Detection(FaceBox Box, float Score);

/// <summary>
/// UltraFace RFB-320 (fr_detect.onnx): the whole image resized to 320×240, (x − 127) / 128; outputs
/// 4,420 candidate boxes (normalised x1, y1, x2, y2) with face probabilities. Keeps candidates over
/// the score threshold, applies greedy IoU non-maximum suppression, then drops faces under the minimum size.
/// </summary>
internal sealed class FaceDetector : IDisposable
{
    public const int InputWidth = 320;
    public const int InputHeight = 240;
    private const int Candidates = 4420;

    private readonly OrtWorkerPool _pool;
    private readonly float _threshold;
    private readonly float _iou;
    private readonly int _minFaceSize;

    public FaceDetector(ModelSource model, VisionOptions options, ProviderPlan plan)
    {
        _pool = new OrtWorkerPool(model, options, plan, options.SessionsFor(plan.Provider), 1, [1, 3, InputHeight, InputWidth], [("scores", [1, Candidates, 2]), ("boxes", [1, Candidates, 4])]);
        _threshold = options.DetectionThreshold;
        _iou = options.NmsIouThreshold;
        _minFaceSize = options.MinFaceSize;
    }

    /// <summary>The model's workers (benchmarks time bare inference on them).</summary>
    public OrtWorkerPool Pool => _pool;

    /// <summary>The execution provider the model runs on.</summary>
    public ExecutionProvider Provider => _pool.Provider;

    /// <summary>Why the model fell back to the CPU, or null.</summary>
    public string? FallbackReason => _pool.FallbackReason;

    /// <summary>All faces in the image, best score first; boxes in full-size pixels (<see cref="RgbImage.FullWidth"/>).</summary>
    public List<Detection> Detect(RgbImage image)
    {
        int width = image.FullWidth, height = image.FullHeight;
        var candidates = new List<Detection>();
        var worker = _pool.Rent();
        try
        {
            Resampler.ResizeToPlanes(image, 0, 0, image.Width, image.Height, InputWidth, InputHeight, worker.Input);
            worker.Run();
            var scores = worker.Outputs[0];
            var boxes = worker.Outputs[1];
            for (int i = 0; i < Candidates; i++)
            {
                float score = scores[(2 * i) + 1];
                if (score < _threshold)
                {
                    continue;
                }

                float x1 = Math.Clamp(boxes[4 * i] * width, 0, width);
                float y1 = Math.Clamp(boxes[(4 * i) + 1] * height, 0, height);
                float x2 = Math.Clamp(boxes[(4 * i) + 2] * width, 0, width);
                float y2 = Math.Clamp(boxes[(4 * i) + 3] * height, 0, height);
                if (x2 > x1 && y2 > y1)
                {
                    candidates.Add(new Detection(new FaceBox(x1, y1, x2 - x1, y2 - y1), score));
                }
            }
        }
        finally
        {
            _pool.Return(worker);
        }

        // The size rule applies to each face's best box, after suppression: filtering candidates first
        // would let a weaker, slightly larger box of a too-small face survive in its place.
        var faces = Suppress(candidates, _iou);
        faces.RemoveAll(d => Math.Min(d.Box.Width, d.Box.Height) < _minFaceSize);
        return faces;
    }

    /// <summary>Greedy non-maximum suppression by score.</summary>
    internal static List<Detection> Suppress(List<Detection> candidates, float iouThreshold)
    {
        candidates.Sort((a, b) => b.Score.CompareTo(a.Score));
        var kept = new List<Detection>();
        foreach (var candidate in candidates)
        {
            bool overlaps = false;
            foreach (var k in kept)
            {
                if (IoU(candidate.Box, k.Box) > iouThreshold)
                {
                    overlaps = true;
                    break;
                }
            }

            if (!overlaps)
            {
                kept.Add(candidate);
            }
        }

        return kept;
    }

    /// <summary>Intersection over union of two boxes.</summary>
    internal static float IoU(FaceBox a, FaceBox b)
    {
        float ix = Math.Max(0, Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X));
        float iy = Math.Max(0, Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y));
        float inter = ix * iy;
        float union = a.Area + b.Area - inter;
        return union <= 0 ? 0 : inter / union;
    }

    public void Dispose() => _pool.Dispose();
}
