using System.Globalization;
using FaceIndex.Evaluation;
using Spectre.Console;

namespace FaceIndex.Cli.Evaluation;

/// <summary>
/// What a minimum face quality does to a pair list: for each minimum, the images it refuses (as
/// Enroll would) and, over the pairs whose two images pass, the false-accept and false-reject rates at
/// fixed thresholds and the 10-fold accuracy. A pair with a refused image is set aside, as the server
/// refuses to enrol or match such a face.
/// </summary>
internal static class QualitySweep
{
    /// <summary>The minimums reported by <c>eval --quality-sweep</c>.</summary>
    public static readonly float[] Minimums = [0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f];

    /// <summary>Whether an image passes a minimum quality (a centre crop or unreadable image never does above 0).</summary>
    public static bool Passes(ImageEmbedding image, float minimum) =>
        minimum <= 0 || (image.Outcome == ImageOutcome.Face && image.Quality is { } q && q.Score >= minimum);

    /// <summary>The pairs whose two images pass <paramref name="minimum"/>.</summary>
    public static PairSet Filter(PairSet set, IReadOnlyDictionary<string, ImageEmbedding> embeddings, float minimum)
    {
        var kept = new List<VerificationPair>(set.Pairs.Count);
        foreach (var pair in set.Pairs)
        {
            if (Passes(embeddings[pair.PathA], minimum) && Passes(embeddings[pair.PathB], minimum))
            {
                kept.Add(pair);
            }
        }

        return set with { Pairs = kept };
    }

    /// <summary>Prints the sweep table for one distance function over the pairs.</summary>
    public static void Write(IAnsiConsole console, PairSet set, IReadOnlyDictionary<string, ImageEmbedding> embeddings, Func<PairSet, float[]> distances, float[] thresholds, double far)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("min quality").RightAligned());
        table.AddColumn(new TableColumn("images refused").RightAligned());
        table.AddColumn(new TableColumn("pairs kept (same / diff.)").RightAligned());
        foreach (var t in thresholds)
        {
            table.AddColumn(new TableColumn(string.Create(inv, $"FAR % @ {t:F3}")).RightAligned());
            table.AddColumn(new TableColumn(string.Create(inv, $"FRR % @ {t:F3}")).RightAligned());
        }

        table.AddColumn(new TableColumn("accuracy % (10-fold)").RightAligned());
        table.AddColumn(new TableColumn(string.Create(inv, $"TAR % @ FAR {far * 100:G3} %")).RightAligned());

        int images = embeddings.Count;
        foreach (var minimum in Minimums)
        {
            int refused = embeddings.Values.Count(e => !Passes(e, minimum));
            var kept = Filter(set, embeddings, minimum);
            var d = distances(kept);
            int same = 0, different = 0;
            var cells = new List<string>
            {
                minimum.ToString("F1", inv),
                string.Create(inv, $"{refused} ({100.0 * refused / images:F1} %)"),
            };
            foreach (var pair in kept.Pairs)
            {
                same += pair.Same ? 1 : 0;
                different += pair.Same ? 0 : 1;
            }

            cells.Add(string.Create(inv, $"{kept.Pairs.Count} ({same} / {different})"));
            foreach (var t in thresholds)
            {
                int falseAccepts = 0, falseRejects = 0;
                for (int i = 0; i < d.Length; i++)
                {
                    bool accepted = d[i] <= t;
                    falseAccepts += !kept.Pairs[i].Same && accepted ? 1 : 0;
                    falseRejects += kept.Pairs[i].Same && !accepted ? 1 : 0;
                }

                cells.Add(Rate(falseAccepts, different));
                cells.Add(Rate(falseRejects, same));
            }

            var report = Evaluate(kept, d, far);
            cells.Add(report is null ? "—" : string.Create(inv, $"{report.MeanAccuracy * 100:F2} ± {report.StdAccuracy * 100:F2}"));
            cells.Add(report?.TarAtFar is { } tar ? string.Create(inv, $"{tar * 100:F2}") : "—");
            table.AddRow(cells.ToArray());
        }

        console.Write(table);
        console.MarkupLine("A pair is kept when both images reach the minimum; centre-crop (no face) and unreadable images never do above 0.");
    }

    private static string Rate(int count, int total) =>
        total == 0 ? "—" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * count / total:F2} ({count})");

    private static VerificationReport? Evaluate(PairSet set, float[] distances, double far)
    {
        var same = new bool[set.Pairs.Count];
        var folds = new int[set.Pairs.Count];
        var perFold = new int[set.Folds * 2];
        for (int i = 0; i < same.Length; i++)
        {
            same[i] = set.Pairs[i].Same;
            folds[i] = set.Pairs[i].Fold;
            perFold[(folds[i] * 2) + (same[i] ? 1 : 0)]++;
        }

        // The protocol needs both classes in every fold.
        return perFold.Any(n => n == 0) ? null : VerificationProtocol.Evaluate(distances, same, folds, set.Folds, far);
    }
}
