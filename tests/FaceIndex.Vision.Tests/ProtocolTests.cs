using FaceIndex.Evaluation;
using FaceIndex.Testing;

namespace FaceIndex.Vision.Tests;

/// <summary>The pair-list readers and the 10-fold protocol's figures on hand-made data.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public void Separable_pairs_score_perfectly()
    {
        var (d, s, f) = Make(200, i => i % 2 == 0 ? 0.5f + (i * 0.001f) : 1.5f + (i * 0.001f));
        var r = VerificationProtocol.Evaluate(d, s, f, 10);
        Assert.Equal(1.0, r.MeanAccuracy);
        Assert.Equal(0.0, r.StdAccuracy);
        Assert.Equal(1.0, r.Auc);
        Assert.All(r.FoldThresholds, t => Assert.InRange(t, 0.7f, 1.5f));
    }

    [Fact]
    public void Auc_counts_ordered_pairs_and_ties_half()
    {
        // same: 0.1, 0.3; different: 0.2, 0.4 → (0.1<0.2) (0.1<0.4) (0.3>0.2) (0.3<0.4) = 3/4.
        Assert.Equal(0.75, VerificationProtocol.Auc([0.1f, 0.2f, 0.3f, 0.4f], [true, false, true, false]), 12);
        Assert.Equal(0.5, VerificationProtocol.Auc([0.2f, 0.2f], [true, false]), 12);
        Assert.Equal(0.0, VerificationProtocol.Auc([0.9f, 0.1f], [true, false]), 12);
    }

    [Fact]
    public void The_threshold_is_the_midpoint_of_the_best_cut()
    {
        Assert.Equal(0.45f, VerificationProtocol.BestThreshold([0.1f, 0.4f, 0.5f, 0.9f], [true, true, false, false]), 6);

        // One same pair far out: accepting it would accept a different pair; the cut stays at the first best run.
        float t = VerificationProtocol.BestThreshold([0.1f, 0.2f, 0.6f, 0.8f, 1.0f], [true, true, false, false, true]);
        Assert.InRange(t, 0.2f, 0.6f);
    }

    [Fact]
    public void The_held_out_fold_is_judged_with_the_other_folds_threshold()
    {
        // Folds 0–8 separate at 1.0; fold 9 has its same pairs at 1.2: its accuracy falls, the others' does not.
        var distances = new List<float>();
        var same = new List<bool>();
        var folds = new List<int>();
        for (int fold = 0; fold < 10; fold++)
        {
            for (int k = 0; k < 10; k++)
            {
                bool isSame = k < 5;
                distances.Add(isSame ? (fold == 9 ? 1.2f : 0.6f) + (k * 0.01f) : 1.6f + (k * 0.01f));
                same.Add(isSame);
                folds.Add(fold);
            }
        }

        var r = VerificationProtocol.Evaluate(distances.ToArray(), same.ToArray(), folds.ToArray(), 10);
        Assert.Equal(0.5, r.FoldAccuracies[9]);
        Assert.All(r.FoldAccuracies[..9], a => Assert.Equal(1.0, a));
        Assert.Equal(0.95, r.MeanAccuracy, 12);
        Assert.Equal(0.15, r.StdAccuracy, 12);
    }

    [Fact]
    public void Tar_at_far_needs_enough_different_pairs()
    {
        var (d, s, _) = Make(100, i => i);
        Assert.Null(VerificationProtocol.TarAtFar(d, s, 0.001));

        // 1,000 different pairs at 1.0 … 1.999, same pairs at 0.5 and 1.0005: FAR 0.1 % allows 1 false accept.
        var distances = new List<float>();
        var labels = new List<bool>();
        for (int i = 0; i < 1000; i++)
        {
            distances.Add(1f + (i * 0.001f));
            labels.Add(false);
        }

        distances.AddRange([0.5f, 1.0005f, 1.5f]);
        labels.AddRange([true, true, true]);
        Assert.Equal(2.0 / 3, VerificationProtocol.TarAtFar(distances.ToArray(), labels.ToArray(), 0.001)!.Value, 12);
    }

    [Fact]
    public void Lfw_pairs_files_are_read_with_their_folds()
    {
        var set = PairList.Load(TestPaths.Faces("lfw-disjoint", "pairs.txt"), TestPaths.Faces("lfw-disjoint"));
        Assert.Equal(10, set.Folds);
        Assert.Equal(280, set.Pairs.Count);
        for (int fold = 0; fold < 10; fold++)
        {
            Assert.Equal(14, set.Pairs.Count(p => p.Fold == fold && p.Same));
            Assert.Equal(14, set.Pairs.Count(p => p.Fold == fold && !p.Same));
        }

        Assert.All(set.Pairs, p => Assert.True(File.Exists(p.PathA) && File.Exists(p.PathB), $"{p.PathA} / {p.PathB}"));
        Assert.EndsWith(Path.Combine("Mark_Gottfried", "Mark_Gottfried_0002.jpg"), set.Pairs[0].PathB, StringComparison.Ordinal);

        var celeba = PairList.Load(TestPaths.Faces("celeba-dev", "pairs.txt"), TestPaths.Faces("celeba-dev"));
        Assert.Equal(6000, celeba.Pairs.Count);
        Assert.Equal(3000, celeba.Pairs.Count(p => p.Same));
    }

    [Fact]
    public void Deepface_csv_is_dealt_into_folds_that_hold_both_classes()
    {
        var set = PairList.Load(TestPaths.Faces("deepface", "master.csv"), TestPaths.Faces("deepface"));
        Assert.Equal(10, set.Folds);
        Assert.Equal(300, set.Pairs.Count);
        Assert.Equal(38, set.Pairs.Count(p => p.Same));
        for (int fold = 0; fold < 10; fold++)
        {
            Assert.InRange(set.Pairs.Count(p => p.Fold == fold && p.Same), 3, 4);
            Assert.InRange(set.Pairs.Count(p => p.Fold == fold && !p.Same), 26, 27);
        }

        Assert.All(set.Pairs, p => Assert.True(File.Exists(p.PathA) && File.Exists(p.PathB)));
    }

    [Theory]
    [InlineData("2\t1\nA\t1\t2\nA\t1\tB\t1\n", 3, "file ends")]
    [InlineData("1\t1\nA\t1\tB\t1\nA\t1\t2\n", 2, "same-person line")]
    [InlineData("1\t1\nA\tx\t2\nA\t1\tB\t1\n", 2, "same-person line")]
    [InlineData("hello world\n", 1, "header")]
    [InlineData("file_x,file_y,Decision\na.jpg,b.jpg,Maybe\n", 2, "Decision")]
    [InlineData("file_x,file_y\na.jpg,b.jpg\n", 1, "Decision")]
    public void A_malformed_pairs_file_names_the_line(string text, int line, string expected)
    {
        using var temp = TestPaths.NewTempDirectory();
        var path = Path.Combine(temp.Path, "pairs.txt");
        File.WriteAllText(path, text);
        var error = Assert.Throws<InvalidDataException>(() => PairList.Load(path, temp.Path));
        Assert.Contains($"line {line}", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_view1_file_of_one_set_is_dealt_into_ten_folds()
    {
        using var temp = TestPaths.NewTempDirectory();
        var path = Path.Combine(temp.Path, "pairsDevTest.txt");
        var lines = new List<string> { "20" };
        for (int i = 0; i < 20; i++)
        {
            lines.Add($"P{i}\t1\t2");
        }

        for (int i = 0; i < 20; i++)
        {
            lines.Add($"P{i}\t1\tQ{i}\t3");
        }

        File.WriteAllLines(path, lines);
        var set = PairList.Load(path, temp.Path);
        Assert.Equal(40, set.Pairs.Count);
        Assert.Equal(10, set.Folds);
        Assert.All(Enumerable.Range(0, 10), fold => Assert.Equal(2, set.Pairs.Count(p => p.Fold == fold && p.Same)));
        Assert.Equal(Path.Combine(temp.Path, "Q3", "Q3_0003.jpg"), set.Pairs[23].PathB);
    }

    private static (float[] Distances, bool[] Same, int[] Folds) Make(int n, Func<int, float> distance)
    {
        var d = new float[n];
        var s = new bool[n];
        var f = new int[n];
        for (int i = 0; i < n; i++)
        {
            d[i] = distance(i);
            s[i] = i % 2 == 0;
            f[i] = i % 10;
        }

        return (d, s, f);
    }
}
