using FaceIndex.Core;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Evaluation;

/// <summary>
/// Distances between evaluation images under one registered model, for each representation: the
/// fr512 model's float512 / float128 / int8 code, the dlib model's float128 / int8 code (it has no
/// 512-D form), or the fused model's z-normalised fusion of the two models' cosines in the same
/// representation (float512 fuses fr512's 512-D cosine with dlib's float cosine).
/// </summary>
internal sealed class ModelScorer
{
    private readonly EmbeddingModel _model;
    private readonly Dictionary<string, float[]> _frFloat512 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _frFloat128 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FaceVector> _frCode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _dlibFloat = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FaceVector> _dlibCode = new(StringComparer.Ordinal);

    /// <param name="model">The model.</param>
    /// <param name="projection">The fr512 projection.</param>
    /// <param name="fr">fr512 embeddings per image (needed unless the model is dlib alone).</param>
    /// <param name="dlib">dlib embeddings per image (needed when the model uses it).</param>
    /// <param name="flip">Flip-averaged fr512 embeddings.</param>
    public ModelScorer(EmbeddingModel model, Projection projection, IReadOnlyDictionary<string, ImageEmbedding>? fr, IReadOnlyDictionary<string, ImageEmbedding>? dlib, bool flip)
    {
        _model = model;
        if (model.Uses(EmbedderKind.Fr512))
        {
            foreach (var (path, image) in fr ?? throw new ArgumentNullException(nameof(fr)))
            {
                if (image.Outcome == ImageOutcome.Unreadable)
                {
                    continue;
                }

                var e512 = image.Embedding(flip);
                var e128 = new float[FaceVector.Dimensions];
                projection.Apply(e512, e128);
                _frFloat512[path] = e512;
                _frFloat128[path] = e128;
                _frCode[path] = Quantizer.QuantizeUnit(e128);
            }
        }

        if (model.Uses(EmbedderKind.Dlib128))
        {
            foreach (var (path, image) in dlib ?? throw new ArgumentNullException(nameof(dlib)))
            {
                if (image.Outcome != ImageOutcome.Unreadable)
                {
                    _dlibFloat[path] = image.Plain;
                    _dlibCode[path] = Quantizer.QuantizeUnit(image.Plain);
                }
            }
        }
    }

    /// <summary>Whether the model has this representation (dlib alone has no 512-D one).</summary>
    public bool Supports(CodeKind kind) => kind != CodeKind.Float512 || _model.Uses(EmbedderKind.Fr512);

    /// <summary>Squared L2 distance (fused for a fused model); <see cref="PairScorer.UnreadableDistance"/> when an image is unreadable.</summary>
    public float Distance(string a, string b, CodeKind kind)
    {
        float? fr = _model.Uses(EmbedderKind.Fr512) ? Cosine(a, b, kind, _frFloat512, _frFloat128, _frCode) : 0f;
        float? dlib = _model.Uses(EmbedderKind.Dlib128) ? Cosine(a, b, kind == CodeKind.Float512 ? CodeKind.Float128 : kind, _dlibFloat, _dlibFloat, _dlibCode) : 0f;
        if (fr is not { } f || dlib is not { } d)
        {
            return PairScorer.UnreadableDistance;
        }

        if (_model.Fusion is { } fusion)
        {
            return fusion.DistanceFromCosines(f, d);
        }

        return Similarity.DistanceFromCosine(_model.Uses(EmbedderKind.Fr512) ? f : d);
    }

    /// <summary>The cosine of one embedder's representation, or null when an image is missing.</summary>
    internal static float? Cosine(string a, string b, CodeKind kind, Dictionary<string, float[]> f512, Dictionary<string, float[]> f128, Dictionary<string, FaceVector> codes)
    {
        switch (kind)
        {
            case CodeKind.Int8:
                return codes.TryGetValue(a, out var ca) && codes.TryGetValue(b, out var cb) ? Similarity.CosineFromDot(ca.Dot(cb)) : null;
            default:
                var map = kind == CodeKind.Float512 ? f512 : f128;
                return map.TryGetValue(a, out var fa) && map.TryGetValue(b, out var fb) ? VectorMath.Dot(fa, fb) : null;
        }
    }

    /// <summary>Cosines of one embedder's int8 codes between images of different identities (the parent folder's name): the impostor mean and standard deviation.</summary>
    public (double Mean, double Std, long Pairs) ImpostorStatistics(EmbedderKind kind, IReadOnlyList<string> images)
    {
        var codes = kind == EmbedderKind.Fr512 ? _frCode : _dlibCode;
        var present = images.Where(codes.ContainsKey).ToArray();
        var identity = present.Select(p => Path.GetFileName(Path.GetDirectoryName(p)) ?? "").ToArray();
        double sum = 0, sumSquares = 0;
        long n = 0;
        for (int i = 0; i < present.Length; i++)
        {
            var ci = codes[present[i]];
            for (int j = i + 1; j < present.Length; j++)
            {
                if (identity[i] == identity[j])
                {
                    continue;
                }

                double c = Similarity.CosineFromDot(ci.Dot(codes[present[j]]));
                sum += c;
                sumSquares += c * c;
                n++;
            }
        }

        double mean = sum / n;
        return (mean, Math.Sqrt(Math.Max(0, (sumSquares / n) - (mean * mean))), n);
    }
}
