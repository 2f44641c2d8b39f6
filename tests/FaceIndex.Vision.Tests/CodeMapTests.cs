using FaceIndex.Core;
using FaceIndex.Evaluation;

namespace FaceIndex.Vision.Tests;

/// <summary>
/// The code maps of migration between models: the artifact round-trips and refuses damage; the ridge fit
/// recovers a known linear relation between two code spaces from noisy samples (held-out identities);
/// the registry's plan keeps the codes both models share, maps the others with the bundle's map, and refuses to map into the fused model.
/// </summary>
public sealed class CodeMapTests
{
    [Fact]
    public void The_artifact_round_trips_and_a_damaged_one_is_refused_with_the_way_to_restore_it()
    {
        var random = new Random(5);
        var matrix = Enumerable.Range(0, 128 * 128).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var bias = Enumerable.Range(0, 128).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var map = new CodeMap(EmbedderKind.Fr512, EmbedderKind.Dlib128, matrix, bias, samples: 1234);

        var bytes = map.ToBytes();
        var read = CodeMap.Read(bytes);
        Assert.Equal((EmbedderKind.Fr512, EmbedderKind.Dlib128, 1234), (read.From, read.To, read.Samples));
        Assert.Equal(matrix, read.Matrix);
        Assert.Equal(bias, read.Bias);
        var code = Quantizer.Quantize(Enumerable.Range(0, 128).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
        Assert.Equal(map.Apply(code).AsSpan().ToArray(), read.Apply(code).AsSpan().ToArray());

        foreach (var damaged in new[] { bytes[..^4], [.. "FIPROJ01"u8, .. bytes[8..]], bytes.Concat(new byte[4]).ToArray() })
        {
            var ex = Assert.Throws<FaceIndexException>(() => CodeMap.Read(damaged));
            Assert.Equal(FaceIndexError.ModelMissing, ex.Error);
            Assert.Contains("fit-migration", ex.Message, StringComparison.Ordinal);
        }

        var nan = (byte[])bytes.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(nan, nan.Length - 4);
        Assert.Contains("non-finite", Assert.Throws<FaceIndexException>(() => CodeMap.Read(nan)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_fit_recovers_a_rotation_between_two_code_spaces_on_identities_it_never_saw()
    {
        // Target = a fixed rotation of the source plus noise; identities are groups of near vectors.
        var random = new Random(11);
        var rotation = RandomRotation(random);
        var sources = new List<FaceVector>();
        var targets = new List<float[]>();
        var identities = new List<string>();
        for (int person = 0; person < 300; person++)
        {
            var centre = RandomUnit(random);
            for (int photo = 0; photo < 5; photo++)
            {
                var x = centre.Select(c => c + (0.15f * Gaussian(random))).ToArray();
                VectorMath.Normalize(x);
                var y = new float[128];
                for (int i = 0; i < 128; i++)
                {
                    y[i] = VectorMath.Dot(rotation.AsSpan(i * 128, 128), x) + (0.02f * Gaussian(random));
                }

                VectorMath.Normalize(y);
                sources.Add(Quantizer.QuantizeUnit(x));
                targets.Add(y);
                identities.Add($"p{person}");
            }
        }

        var (map, report) = CodeMapFitter.Fit(EmbedderKind.Fr512, EmbedderKind.Dlib128, sources, targets, identities);
        Assert.Equal(1500, map.Samples);
        Assert.True(report.HeldOutCosine[report.Ridge] > 0.97, $"held-out cosine {report.HeldOutCosine[report.Ridge]}");

        // New identities: the mapped code is as near the true target as quantization and noise allow.
        var check = RandomUnit(random);
        var expected = new float[128];
        for (int i = 0; i < 128; i++)
        {
            expected[i] = VectorMath.Dot(rotation.AsSpan(i * 128, 128), check);
        }

        var mapped = map.Apply(Quantizer.QuantizeUnit(check));
        Assert.True(Similarity.CosineFromDot(mapped.Dot(Quantizer.QuantizeUnit(expected))) > 0.97);
    }

    [Fact]
    public void Too_few_faces_or_mismatched_inputs_are_refused_with_what_is_needed()
    {
        var one = new[] { Quantizer.QuantizeUnit(RandomUnit(new Random(1))) };
        var ex = Assert.Throws<ArgumentException>(() => CodeMapFitter.Fit(EmbedderKind.Fr512, EmbedderKind.Dlib128, one, [new float[128]], ["a"]));
        Assert.Contains("at least 258 faces", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CodeMapFitter.Fit(EmbedderKind.Fr512, EmbedderKind.Dlib128, one, [], ["a"]));
    }

    [Fact]
    public void The_registry_plans_a_migration_from_its_bundled_maps()
    {
        var registry = ModelRegistry.Load(null);
        var fr = registry.Get("fr512-pca128-v1");
        var dlib = registry.Get("dlib128-v1");
        var fused = registry.Get("fused-v1");

        var same = Assert.Throws<FaceIndexException>(() => registry.PlanMigration(fr, fr));
        Assert.Equal(FaceIndexError.InvalidArgument, same.Error);

        // fr512 → dlib: the one code is mapped.
        var toDlib = registry.PlanMigration(fr, dlib);
        var code = Quantizer.QuantizeUnit(RandomUnit(new Random(3)));
        var mapped = Assert.Single(toDlib.Apply([code]));
        Assert.Equal(registry.GetMap(EmbedderKind.Fr512, EmbedderKind.Dlib128)!.Apply(code).AsSpan().ToArray(), mapped.AsSpan().ToArray());
        Assert.Contains("mapped from the fr512 code", toDlib.Describe(), StringComparison.Ordinal);

        // The thresholds of a mapped collection are the ones measured for mapped codes, not the model's own.
        Assert.True(toDlib.MapsCodes);
        Assert.NotEqual(dlib.IdentificationThreshold, toDlib.IdentificationThreshold);
        Assert.InRange(toDlib.IdentificationThreshold, 0.05f, 0.4f);

        // Into the fused model, a mapped second code would lower its accuracy: refused, with what to do.
        var toFused = Assert.Throws<FaceIndexException>(() => registry.PlanMigration(fr, fused));
        Assert.Equal(FaceIndexError.ModelMismatch, toFused.Error);
        Assert.Contains("Re-enrol the images", toFused.Message, StringComparison.Ordinal);

        // fused → dlib: the dlib code is kept as it is, and so are the model's thresholds.
        var second = Quantizer.QuantizeUnit(RandomUnit(new Random(4)));
        var fromFused = registry.PlanMigration(fused, dlib);
        Assert.False(fromFused.MapsCodes);
        Assert.Equal(dlib.IdentificationThreshold, fromFused.IdentificationThreshold);
        Assert.Equal(second.AsSpan().ToArray(), Assert.Single(fromFused.Apply([code, second])).AsSpan().ToArray());
        Assert.Throws<ArgumentException>(() => registry.PlanMigration(fused, dlib).Apply([code]));
    }

    private static float[] RandomUnit(Random random)
    {
        var v = Enumerable.Range(0, 128).Select(_ => Gaussian(random)).ToArray();
        VectorMath.Normalize(v);
        return v;
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    /// <summary>A random orthogonal 128 × 128 matrix (Gram–Schmidt on Gaussian rows).</summary>
    private static float[] RandomRotation(Random random)
    {
        var rows = new List<float[]>();
        while (rows.Count < 128)
        {
            var v = RandomUnit(random);
            foreach (var r in rows)
            {
                float d = VectorMath.Dot(v, r);
                for (int i = 0; i < 128; i++)
                {
                    v[i] -= d * r[i];
                }
            }

            VectorMath.Normalize(v);
            rows.Add(v);
        }

        return rows.SelectMany(r => r).ToArray();
    }
}
