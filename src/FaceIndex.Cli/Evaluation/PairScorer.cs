using FaceIndex.Core;
using FaceIndex.Evaluation;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Evaluation;

/// <summary>The representations the evaluator compares.</summary>
internal enum CodeKind
{
    /// <summary>The model's unit 512-D float embedding.</summary>
    Float512,

    /// <summary>The projected, re-normalised 128-D float embedding.</summary>
    Float128,

    /// <summary>The stored 128-byte code: the 128-D embedding quantized to int8.</summary>
    Int8,
}

/// <summary>Squared L2 distances of verification pairs under one representation.</summary>
internal static class PairScorer
{
    /// <summary>Distance given to a pair with an unreadable image: the largest possible, so the pair counts as "different".</summary>
    public const float UnreadableDistance = 4f;

    /// <summary>Distance of every pair; every representation goes through the same conversions as the server's (Core's Similarity).</summary>
    public static float[] Distances(IReadOnlyList<VerificationPair> pairs, IReadOnlyDictionary<string, ImageEmbedding> embeddings, Projection projection, CodeKind code, bool flip)
    {
        var floats = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var codes = new Dictionary<string, FaceVector>(StringComparer.Ordinal);
        foreach (var (path, image) in embeddings)
        {
            if (image.Outcome == ImageOutcome.Unreadable)
            {
                continue;
            }

            var e512 = image.Embedding(flip);
            if (code == CodeKind.Float512)
            {
                floats[path] = e512;
                continue;
            }

            var e128 = new float[FaceVector.Dimensions];
            projection.Apply(e512, e128);
            if (code == CodeKind.Float128)
            {
                floats[path] = e128;
            }
            else
            {
                codes[path] = Quantizer.QuantizeUnit(e128);
            }
        }

        var distances = new float[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (a, b) = (pairs[i].PathA, pairs[i].PathB);
            if (code == CodeKind.Int8)
            {
                distances[i] = codes.TryGetValue(a, out var ca) && codes.TryGetValue(b, out var cb)
                    ? Similarity.Distance(ca, cb)
                    : UnreadableDistance;
            }
            else
            {
                distances[i] = floats.TryGetValue(a, out var fa) && floats.TryGetValue(b, out var fb)
                    ? Similarity.DistanceFromCosine(VectorMath.Dot(fa, fb))
                    : UnreadableDistance;
            }
        }

        return distances;
    }
}
