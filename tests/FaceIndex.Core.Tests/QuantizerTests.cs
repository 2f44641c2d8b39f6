using CsCheck;

namespace FaceIndex.Core.Tests;

public class QuantizerTests
{
    private static readonly Gen<float[]> s_embedding =
        Gen.Float[-10f, 10f].Array[FaceVector.Dimensions].Where(v => v.Any(x => MathF.Abs(x) > 1e-3f));

    [Fact]
    public void Components_stay_in_range_and_dequantize_within_half_a_step()
    {
        s_embedding.Sample(raw =>
        {
            var unit = (float[])raw.Clone();
            VectorMath.Normalize(unit);
            var code = Quantizer.Quantize(raw);
            Assert.True(Quantizer.IsValid(code.AsSpan()));
            var back = new float[FaceVector.Dimensions];
            Quantizer.Dequantize(code, back);
            for (int i = 0; i < FaceVector.Dimensions; i++)
            {
                Assert.InRange(MathF.Abs(back[i] - unit[i]), 0f, (0.5f / FaceVector.Scale) + 1e-6f);
            }
        });
    }

    [Fact]
    public void Self_similarity_is_close_to_one_and_distance_is_symmetric()
    {
        s_embedding.Select(s_embedding).Sample((x, y) =>
        {
            var a = Quantizer.Quantize(x);
            var b = Quantizer.Quantize(y);
            Assert.InRange(Similarity.CosineFromDot(a.Dot(a)), 0.97f, 1.03f);
            Assert.Equal(Similarity.Distance(a, b), Similarity.Distance(b, a));
            Assert.InRange(Similarity.Distance(a, b), -0.06f, 4.06f);
        });
    }

    [Fact]
    public void Quantized_cosine_tracks_float_cosine()
    {
        s_embedding.Select(s_embedding).Sample((x, y) =>
        {
            var ux = (float[])x.Clone();
            var uy = (float[])y.Clone();
            VectorMath.Normalize(ux);
            VectorMath.Normalize(uy);
            float exact = VectorMath.Dot(ux, uy);
            float coded = Similarity.CosineFromDot(Quantizer.Quantize(x).Dot(Quantizer.Quantize(y)));
            Assert.InRange(coded - exact, -0.05f, 0.05f);
        });
    }

    [Fact]
    public void Rounding_is_half_away_from_zero()
    {
        Assert.Equal(1, Quantizer.QuantizeComponent(0.5f / 127f + 1e-9f));
        Assert.Equal(-1, Quantizer.QuantizeComponent(-0.5f / 127f - 1e-9f));
        Assert.Equal(127, Quantizer.QuantizeComponent(2f));
        Assert.Equal(-127, Quantizer.QuantizeComponent(-2f));
    }

    [Fact]
    public void Invalid_embeddings_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(new float[127]));
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(new float[128]));
        var nan = new float[128];
        nan[3] = float.NaN;
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(nan));
    }

    [Fact]
    public void Distance_threshold_conversion_round_trips()
    {
        foreach (var d in new[] { 0.4f, 0.8f, 1.0f, 1.242f, 2.0f })
        {
            int minDot = Similarity.MinDotForDistance(d);
            Assert.True(Similarity.DistanceFromDot(minDot) <= d + 1e-4f);
            Assert.True(Similarity.DistanceFromDot(minDot - 1) > d - 1e-4f);
        }
    }
}
