namespace FaceIndex.Vision.Internal;

/// <summary>
/// Age, gender and expression with the model package's models, fed and decoded as its JavaScript does:
/// age and gender (SSR-Net, 64×64) read the detector box scaled 1.4× about its centre and moved inside the
/// image, ImageNet-normalised planes in BGR order, and merge the three stages' outputs by soft stagewise regression (× 101
/// for years, × 1 for gender); expression reads the box from its top-left corner at 1.2× its size, 224×224
/// RGB scaled to [0, 1], and takes the softmax's most probable class.
/// </summary>
/// <remarks>
/// The package's JavaScript feeds SSR-Net RGB; BGR measured better: of 8 deepface faces whose gender is
/// evident, BGR puts 7 on the right side of 0.5 and RGB 4 (and RGB gives a 40-year-old woman 50 years).
/// </remarks>
internal sealed class AttributeEstimator : IDisposable
{
    private const int SsrSide = 64;
    private const int ExpressionSide = 224;
    private const int Expressions = 7;

    private static readonly (string Name, long[] Shape)[] s_ssrOutputs =
    [
        ("prob_stage_1", [1, 3]), ("prob_stage_2", [1, 3]), ("prob_stage_3", [1, 3]),
        ("stage1_delta_k", [1, 1]), ("stage2_delta_k", [1, 1]), ("stage3_delta_k", [1, 1]),
        ("index_offset_stage1", [1, 3]), ("index_offset_stage2", [1, 3]), ("index_offset_stage3", [1, 3]),
    ];

    private static readonly float[] s_mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] s_std = [0.229f, 0.224f, 0.225f];

    private readonly OrtWorkerPool _age;
    private readonly OrtWorkerPool _gender;
    private readonly OrtWorkerPool _expression;

    public AttributeEstimator(ModelSource age, ModelSource gender, ModelSource expression, VisionOptions options, ProviderPlan plan)
    {
        int workers = options.SessionsFor(plan.Provider);
        _age = new OrtWorkerPool(age, options, plan, workers, 1, [1, 3, SsrSide, SsrSide], s_ssrOutputs);
        try
        {
            _gender = new OrtWorkerPool(gender, options, plan, workers, 1, [1, 3, SsrSide, SsrSide], s_ssrOutputs);
            try
            {
                _expression = new OrtWorkerPool(expression, options, plan, workers, 1, [1, 3, ExpressionSide, ExpressionSide], [("output", [1, Expressions])]);
            }
            catch
            {
                _gender.Dispose();
                throw;
            }
        }
        catch
        {
            _age.Dispose();
            throw;
        }
    }

    /// <summary>The attributes of the face in <paramref name="fullSizeBox"/> (full-size pixels; the image may be decoded at a reduced scale).</summary>
    public FaceAttributes Estimate(RgbImage image, FaceBox fullSizeBox)
    {
        var box = image.ToDecoded(fullSizeBox);
        var (x, y, w, h) = SsrCrop(box, image.Width, image.Height);
        float age = RunSsr(_age, image, x, y, w, h) * 101f;
        float gender = RunSsr(_gender, image, x, y, w, h);

        var worker = _expression.Rent();
        int best = 0;
        float confidence;
        try
        {
            float ew = Math.Min(box.Width * 1.2f, image.Width - box.X), eh = Math.Min(box.Height * 1.2f, image.Height - box.Y);
            Resampler.ResizeToPlanes(image, box.X, box.Y, Math.Max(1, ew), Math.Max(1, eh), ExpressionSide, ExpressionSide, worker.Input);
            var input = worker.Input.AsSpan();
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = ((input[i] * 128f) + 127f) / 255f;
            }

            worker.Run();
            var logits = worker.Outputs[0];
            float max = logits.Max();
            double sum = 0;
            for (int i = 0; i < Expressions; i++)
            {
                sum += Math.Exp(logits[i] - max);
                best = logits[i] > logits[best] ? i : best;
            }

            confidence = (float)(Math.Exp(logits[best] - max) / sum);
        }
        finally
        {
            _expression.Return(worker);
        }

        return new FaceAttributes(age, gender >= 0.5f ? "male" : "female", gender, FaceAttributes.ExpressionLabels[best], confidence);
    }

    /// <summary>The SSR-Net crop: the box scaled by min(1.4, what fits) about its centre, moved inside the image.</summary>
    internal static (float X, float Y, float Width, float Height) SsrCrop(FaceBox box, int imageWidth, int imageHeight)
    {
        float scale = Math.Min(1.4f, Math.Min((imageHeight - 1) / box.Height, (imageWidth - 1) / box.Width));
        float w = box.Width * scale, h = box.Height * scale;
        float x = box.X + (box.Width / 2) - (w / 2), y = box.Y + (box.Height / 2) - (h / 2);
        x = Math.Clamp(x, 0, Math.Max(0, imageWidth - 1 - w));
        y = Math.Clamp(y, 0, Math.Max(0, imageHeight - 1 - h));
        return (x, y, Math.Max(1, w), Math.Max(1, h));
    }

    /// <summary>
    /// SSR-Net's soft stagewise regression over the outputs in <see cref="s_ssrOutputs"/> order
    /// (p = stage probabilities, d = delta_k, o = index offsets; 3 classes per stage, λ = 1):
    /// Σ_k [Σ_i (i + o_k,i) p_k,i] / Π_{j≤k} 3 (1 + d_j).
    /// </summary>
    internal static float MergeStages(float[][] outputs)
    {
        double result = 0, divisor = 1;
        for (int k = 0; k < 3; k++)
        {
            divisor *= 3 * (1 + outputs[3 + k][0]);
            double stage = 0;
            for (int i = 0; i < 3; i++)
            {
                stage += (i + outputs[6 + k][i]) * outputs[k][i];
            }

            result += stage / divisor;
        }

        return (float)result;
    }

    public void Dispose()
    {
        _age.Dispose();
        _gender.Dispose();
        _expression.Dispose();
    }

    private static float RunSsr(OrtWorkerPool pool, RgbImage image, float x, float y, float w, float h)
    {
        var worker = pool.Rent();
        try
        {
            Resampler.ResizeToPlanes(image, x, y, w, h, SsrSide, SsrSide, worker.Input);
            const int Plane = SsrSide * SsrSide;

            // Blue plane first (OpenCV's order, as SSR-Net was trained); ImageNet's constants by plane position.
            var red = worker.Input.AsSpan(0, Plane);
            var blue = worker.Input.AsSpan(2 * Plane, Plane);
            for (int i = 0; i < Plane; i++)
            {
                (red[i], blue[i]) = (blue[i], red[i]);
            }

            for (int c = 0; c < 3; c++)
            {
                var plane = worker.Input.AsSpan(c * Plane, Plane);
                for (int i = 0; i < plane.Length; i++)
                {
                    plane[i] = ((((plane[i] * 128f) + 127f) / 255f) - s_mean[c]) / s_std[c];
                }
            }

            worker.Run();
            return MergeStages(worker.Outputs);
        }
        finally
        {
            pool.Return(worker);
        }
    }
}
