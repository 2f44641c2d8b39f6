using FaceIndex.Core;

namespace FaceIndex.Cli.Evaluation;

/// <summary>How a person's score aggregates the distances of their enrolled faces to a probe.</summary>
internal enum Aggregation
{
    /// <summary>The nearest face (the smallest distance).</summary>
    Nearest,

    /// <summary>The mean of the two smallest distances (the nearest when the person has one face).</summary>
    MeanTop2,

    /// <summary>The mean of all the person's distances.</summary>
    MeanAll,

    /// <summary>The distance to the person's centroid (mean of their unit 128-D embeddings, re-normalised, int8).</summary>
    Centroid,
}

/// <summary>A gallery person: their face codes and the code of their centroid.</summary>
internal sealed record GalleryPerson(string Id, FaceVector[] Faces, FaceVector Centroid);

/// <summary>A probe: its code and the person it shows (null when that person is not enrolled).</summary>
internal readonly record struct Probe(FaceVector Code, string? Mate);

/// <summary>One open-set result: rank-1 identification and the detection-and-identification rate at false-positive identification rates.</summary>
internal sealed record OpenSetResult(int Gallery, int MatedProbes, int NonMatedProbes, double Rank1, double[] Fpir, double[] Dir, float[] Thresholds);

/// <summary>
/// Open-set identification (ISO/IEC 19795-1 and NIST FRVT 1:N terms): each probe is compared with every
/// gallery person; a person's distance aggregates their faces' distances. A mated probe is identified at
/// threshold t when its nearest person is its mate and that distance is at most t (DIR); a non-mated
/// probe is a false positive when its nearest person is at most t (FPIR). The threshold for a target FPIR
/// is the FPIR-quantile of the non-mated probes' nearest distances.
/// </summary>
internal static class OpenSetProtocol
{
    /// <summary>Each probe's nearest person: (index of the person, aggregated distance).</summary>
    public static (int Person, float Distance)[] Nearest(IReadOnlyList<GalleryPerson> gallery, IReadOnlyList<Probe> probes, Aggregation aggregation)
    {
        var result = new (int, float)[probes.Count];
        Parallel.For(0, probes.Count, p =>
        {
            var code = probes[p].Code;
            int best = -1;
            float bestDistance = float.PositiveInfinity;
            Span<float> top = stackalloc float[2];
            for (int g = 0; g < gallery.Count; g++)
            {
                float d = Aggregate(gallery[g], code, aggregation, top);
                if (d < bestDistance)
                {
                    (best, bestDistance) = (g, d);
                }
            }

            result[p] = (best, bestDistance);
        });
        return result;
    }

    /// <summary>Rank-1 rate, and DIR at each target FPIR with its threshold.</summary>
    public static OpenSetResult Evaluate(IReadOnlyList<GalleryPerson> gallery, IReadOnlyList<Probe> probes, Aggregation aggregation, double[] fpirTargets)
    {
        var nearest = Nearest(gallery, probes, aggregation);
        var mated = new List<(bool Correct, float Distance)>();
        var nonMated = new List<float>();
        for (int p = 0; p < probes.Count; p++)
        {
            if (probes[p].Mate is { } mate)
            {
                mated.Add((gallery[nearest[p].Person].Id == mate, nearest[p].Distance));
            }
            else
            {
                nonMated.Add(nearest[p].Distance);
            }
        }

        nonMated.Sort();
        var dir = new double[fpirTargets.Length];
        var thresholds = new float[fpirTargets.Length];
        for (int i = 0; i < fpirTargets.Length; i++)
        {
            thresholds[i] = ThresholdAtFpir(nonMated, fpirTargets[i]);
            dir[i] = DirAt(mated, thresholds[i]);
        }

        double rank1 = mated.Count == 0 ? double.NaN : (double)mated.Count(m => m.Correct) / mated.Count;
        return new OpenSetResult(gallery.Count, mated.Count, nonMated.Count, rank1, fpirTargets, dir, thresholds);
    }

    /// <summary>FPIR and DIR at a given threshold.</summary>
    public static (double Fpir, double Dir) RatesAt(IReadOnlyList<GalleryPerson> gallery, IReadOnlyList<Probe> probes, float threshold)
    {
        var nearest = Nearest(gallery, probes, Aggregation.Nearest);
        int nonMated = 0, falsePositives = 0, mated = 0, identified = 0;
        for (int p = 0; p < probes.Count; p++)
        {
            bool under = nearest[p].Distance <= threshold;
            if (probes[p].Mate is { } mate)
            {
                mated++;
                identified += under && gallery[nearest[p].Person].Id == mate ? 1 : 0;
            }
            else
            {
                nonMated++;
                falsePositives += under ? 1 : 0;
            }
        }

        return ((double)falsePositives / Math.Max(1, nonMated), (double)identified / Math.Max(1, mated));
    }

    /// <summary>The largest threshold at which at most the target share of non-mated probes (sorted distances) fall at or under it.</summary>
    internal static float ThresholdAtFpir(List<float> sortedNonMated, double fpir)
    {
        if (sortedNonMated.Count == 0)
        {
            return float.NaN;
        }

        int allowed = (int)Math.Floor(fpir * sortedNonMated.Count);
        return allowed >= sortedNonMated.Count
            ? sortedNonMated[^1]
            : BitDecrement(sortedNonMated[allowed]);
    }

    private static float BitDecrement(float value) => MathF.BitDecrement(value);

    private static double DirAt(List<(bool Correct, float Distance)> mated, float threshold)
    {
        if (mated.Count == 0)
        {
            return double.NaN;
        }

        int hits = 0;
        foreach (var (correct, distance) in mated)
        {
            hits += correct && distance <= threshold ? 1 : 0;
        }

        return (double)hits / mated.Count;
    }

    private static float Aggregate(GalleryPerson person, in FaceVector probe, Aggregation aggregation, Span<float> top)
    {
        switch (aggregation)
        {
            case Aggregation.Centroid:
                return Similarity.Distance(person.Centroid, probe);
            case Aggregation.MeanAll:
                {
                    float sum = 0;
                    foreach (var face in person.Faces)
                    {
                        sum += Similarity.Distance(face, probe);
                    }

                    return sum / person.Faces.Length;
                }

            default:
                {
                    top[0] = top[1] = float.PositiveInfinity;
                    foreach (var face in person.Faces)
                    {
                        float d = Similarity.Distance(face, probe);
                        if (d < top[0])
                        {
                            (top[1], top[0]) = (top[0], d);
                        }
                        else if (d < top[1])
                        {
                            top[1] = d;
                        }
                    }

                    return aggregation == Aggregation.Nearest || person.Faces.Length == 1 ? top[0] : (top[0] + top[1]) / 2;
                }
        }
    }
}
