using CsCheck;

namespace FaceIndex.Clustering.Tests;

public sealed class ClusteringMetricsTests
{
    [Fact]
    public void Hand_computed_example()
    {
        // Truth {1,2,3} {4,5} {6}; predicted {1,2} {3,4,5} {6}.
        // Pairs together: 1-2, 3-4, 3-5, 4-5 (4); same label: 1-2, 1-3, 2-3, 4-5 (4); both: 1-2, 4-5 (2).
        // BCubed precision per item: 1, 1, 1/3, 2/3, 2/3, 1 → 14/18; recall: 2/3, 2/3, 1/3, 1, 1, 1 → 14/18.
        int[] truth = [0, 0, 0, 1, 1, 2];
        int[] predicted = [10, 10, 11, 11, 11, 12];

        var q = ClusteringMetrics.Evaluate(truth, predicted);

        Assert.Equal(6, q.Items);
        Assert.Equal(3, q.TrueClusters);
        Assert.Equal(3, q.PredictedClusters);
        Assert.Equal(0.5, q.PairwisePrecision, 12);
        Assert.Equal(0.5, q.PairwiseRecall, 12);
        Assert.Equal(0.5, q.PairwiseF1, 12);
        Assert.Equal(14.0 / 18, q.BCubedPrecision, 12);
        Assert.Equal(14.0 / 18, q.BCubedRecall, 12);
        Assert.Equal(14.0 / 18, q.BCubedF1, 12);
    }

    [Fact]
    public void Hand_computed_asymmetric_example()
    {
        // Truth {1,2,3,4}; predicted {1,2} {3} {4}.
        // Pairwise: together 1, same 6, both 1 → P 1, R 1/6, F1 2/7.
        // BCubed precision: all 1; recall: 2/4, 2/4, 1/4, 1/4 → 3/8; F1 = 2·(3/8)/(11/8) = 6/11.
        int[] truth = [7, 7, 7, 7];
        int[] predicted = [0, 0, 1, 2];

        var q = ClusteringMetrics.Evaluate(truth, predicted);

        Assert.Equal(1.0, q.PairwisePrecision, 12);
        Assert.Equal(1.0 / 6, q.PairwiseRecall, 12);
        Assert.Equal(2.0 / 7, q.PairwiseF1, 12);
        Assert.Equal(1.0, q.BCubedPrecision, 12);
        Assert.Equal(3.0 / 8, q.BCubedRecall, 12);
        Assert.Equal(6.0 / 11, q.BCubedF1, 12);
    }

    [Fact]
    public void All_singletons_have_full_precision_and_no_pairwise_recall()
    {
        int[] truth = [0, 0, 1, 1];
        int[] predicted = [0, 1, 2, 3];

        var q = ClusteringMetrics.Evaluate(truth, predicted);

        Assert.Equal(1.0, q.PairwisePrecision);
        Assert.Equal(0.0, q.PairwiseRecall);
        Assert.Equal(0.0, q.PairwiseF1);
        Assert.Equal(1.0, q.BCubedPrecision);
        Assert.Equal(0.5, q.BCubedRecall, 12);
    }

    [Fact]
    public void Lengths_must_match()
    {
        Assert.Throws<ArgumentException>(() => ClusteringMetrics.Evaluate([1, 2], [1]));
    }

    [Fact]
    public void Contingency_counts_agree_with_enumerating_every_pair()
    {
        Gen.Int[0, 5].Array[1, 40].SelectMany(t => Gen.Int[0, 5].Array[t.Length].Select(p => (t, p)))
            .Sample(pair =>
            {
                var (truth, predicted) = pair;
                var q = ClusteringMetrics.Evaluate(truth, predicted);
                var naive = Naive(truth, predicted);
                Assert.Equal(naive.PairwisePrecision, q.PairwisePrecision, 9);
                Assert.Equal(naive.PairwiseRecall, q.PairwiseRecall, 9);
                Assert.Equal(naive.BCubedPrecision, q.BCubedPrecision, 9);
                Assert.Equal(naive.BCubedRecall, q.BCubedRecall, 9);
            });
    }

    [Fact]
    public void A_clustering_identical_to_the_labels_scores_one_whatever_the_names()
    {
        Gen.Int[0, 8].Array[1, 60].Sample(truth =>
        {
            var renamed = truth.Select(t => (t * 31) + 5).ToArray();
            var q = ClusteringMetrics.Evaluate(truth, renamed);
            Assert.Equal(1.0, q.PairwiseF1, 12);
            Assert.Equal(1.0, q.BCubedF1, 12);
        });
    }

    private static (double PairwisePrecision, double PairwiseRecall, double BCubedPrecision, double BCubedRecall) Naive(int[] truth, int[] predicted)
    {
        int n = truth.Length;
        double together = 0, same = 0, both = 0, bp = 0, br = 0;
        for (int i = 0; i < n; i++)
        {
            int inCluster = 0, inLabel = 0, inBoth = 0;
            for (int j = 0; j < n; j++)
            {
                bool c = predicted[i] == predicted[j];
                bool l = truth[i] == truth[j];
                inCluster += c ? 1 : 0;
                inLabel += l ? 1 : 0;
                inBoth += c && l ? 1 : 0;
                if (j > i)
                {
                    together += c ? 1 : 0;
                    same += l ? 1 : 0;
                    both += c && l ? 1 : 0;
                }
            }

            bp += (double)inBoth / inCluster;
            br += (double)inBoth / inLabel;
        }

        return (together == 0 ? 1 : both / together, same == 0 ? 1 : both / same, bp / n, br / n);
    }
}
