using FaceIndex.Core;
using FaceIndex.Evaluation;
using FaceIndex.Testing;

namespace FaceIndex.Vision.Tests;

/// <summary>End to end: LFW's 10-fold protocol on deepface's master.csv (300 pairs of 25 real photographs).</summary>
[Collection(PipelineCollection.Name)]
public sealed class AccuracyTests(PipelineFixture fixture)
{
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public async Task The_128_byte_code_verifies_deepface_pairs_at_99_percent()
    {
        var set = PairList.Load(TestPaths.Faces("deepface", "master.csv"), TestPaths.Faces("deepface"));
        var faces = new Dictionary<string, DetectedFace>(StringComparer.Ordinal);
        foreach (var pair in set.Pairs)
        {
            foreach (var path in new[] { pair.PathA, pair.PathB })
            {
                if (!faces.ContainsKey(path))
                {
                    faces[path] = await _pipeline.AnalyzeOneAsync(await File.ReadAllBytesAsync(path));
                }
            }
        }

        int n = set.Pairs.Count;
        var int8 = new float[n];
        var float512 = new float[n];
        var same = new bool[n];
        var folds = new int[n];
        for (int i = 0; i < n; i++)
        {
            var (a, b) = (faces[set.Pairs[i].PathA], faces[set.Pairs[i].PathB]);
            int8[i] = Similarity.Distance(a.Vector, b.Vector);
            float512[i] = Similarity.DistanceFromCosine(VectorMath.Dot(a.Embedding512, b.Embedding512));
            same[i] = set.Pairs[i].Same;
            folds[i] = set.Pairs[i].Fold;
        }

        var code = VerificationProtocol.Evaluate(int8, same, folds, set.Folds);
        var reference = VerificationProtocol.Evaluate(float512, same, folds, set.Folds);
        Assert.True(code.MeanAccuracy >= 0.99, $"int8-128: {code.MeanAccuracy:P2}");
        Assert.True(code.Auc >= 0.99, $"int8-128 AUC {code.Auc:F4}");
        Assert.True(code.MeanAccuracy >= reference.MeanAccuracy - 0.01, $"int8-128 {code.MeanAccuracy:P2} vs float512 {reference.MeanAccuracy:P2}");

        // The bundle's default threshold, chosen on celeba-dev, transfers to these photographs.
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            correct += (int8[i] <= _pipeline.DefaultThreshold) == same[i] ? 1 : 0;
        }

        Assert.True(correct >= 0.97 * n, $"{correct}/{n} pairs right at the default threshold {_pipeline.DefaultThreshold}");
    }
}
