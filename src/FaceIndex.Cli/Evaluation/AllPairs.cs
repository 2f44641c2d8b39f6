namespace FaceIndex.Cli.Evaluation;

/// <summary>TAR at two low FARs over every pair of a set of images.</summary>
/// <param name="Genuine">Same-identity pairs.</param>
/// <param name="Impostor">Different-identity pairs.</param>
/// <param name="TarAtFar1e3">Share of same-identity pairs accepted at FAR 0.1 %.</param>
/// <param name="ThresholdAtFar1e3">The distance below which 0.1 % of different-identity pairs fall.</param>
/// <param name="TarAtFar1e4">Share of same-identity pairs accepted at FAR 0.01 %.</param>
/// <param name="ThresholdAtFar1e4">The distance below which 0.01 % of different-identity pairs fall.</param>
internal sealed record AllPairsReport(long Genuine, long Impostor, double TarAtFar1e3, float ThresholdAtFar1e3, double TarAtFar1e4, float ThresholdAtFar1e4);

/// <summary>
/// Every pair of the images of a pair list (identity = the image's folder, as in LFW's and celeba-dev's
/// layout): a pair list of 3,000 different-person pairs cannot show a FAR of 0.01 %, the 4.6 million
/// different-identity pairs of celeba-dev's 3,000 images can. Unreadable images are left out.
/// </summary>
internal static class AllPairs
{
    public static AllPairsReport Evaluate(IReadOnlyList<string> images, ModelScorer scorer, CodeKind kind)
    {
        var identity = images.Select(p => Path.GetFileName(Path.GetDirectoryName(p)) ?? "").ToArray();
        if (identity.Distinct(StringComparer.Ordinal).Count() < 2)
        {
            throw new ArgumentException($"--all-pairs needs the images in one folder per identity (LFW's layout); all {images.Count} images of this list are in one folder.");
        }

        var genuine = new List<float>();
        var impostor = new List<float>(images.Count * images.Count / 2);
        for (int i = 0; i < images.Count; i++)
        {
            for (int j = i + 1; j < images.Count; j++)
            {
                float d = scorer.Distance(images[i], images[j], kind);
                if (d >= PairScorer.UnreadableDistance)
                {
                    continue;
                }

                (identity[i] == identity[j] ? genuine : impostor).Add(d);
            }
        }

        var imp = impostor.ToArray();
        Array.Sort(imp);
        var gen = genuine.ToArray();
        Array.Sort(gen);
        var (tar3, t3) = TarAt(gen, imp, 1e-3);
        var (tar4, t4) = TarAt(gen, imp, 1e-4);
        return new AllPairsReport(gen.Length, imp.Length, tar3, t3, tar4, t4);
    }

    /// <summary>The threshold that accepts (distance &lt; t) the given share of impostors, and the share of genuine pairs it accepts.</summary>
    private static (double Tar, float Threshold) TarAt(float[] genuineSorted, float[] impostorSorted, double far)
    {
        if (impostorSorted.Length == 0 || genuineSorted.Length == 0)
        {
            return (double.NaN, float.NaN);
        }

        int index = (int)Math.Floor(far * impostorSorted.Length);
        float threshold = impostorSorted[Math.Min(index, impostorSorted.Length - 1)];
        int accepted = LowerBound(genuineSorted, threshold);
        return ((double)accepted / genuineSorted.Length, threshold);
    }

    private static int LowerBound(float[] sorted, float value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
