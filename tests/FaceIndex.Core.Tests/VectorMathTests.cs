
namespace FaceIndex.Core.Tests;

public class VectorMathTests
{
    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        for (int n = 0; n <= 256; n++)
        {
            data.Add(n);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Int8Dot_matches_scalar_reference_for_every_length(int length)
    {
        var random = new Random(1234 + length);
        for (int trial = 0; trial < 20; trial++)
        {
            var a = RandomCode(random, length);
            var b = RandomCode(random, length);
            Assert.Equal(VectorMath.DotScalar(a, b), VectorMath.Dot(a, b));
        }
    }

    [Fact]
    public void Int8Dot_is_exact_at_the_extremes()
    {
        var plus = Enumerable.Repeat((sbyte)127, 256).ToArray();
        var minus = Enumerable.Repeat((sbyte)-127, 256).ToArray();
        Assert.Equal(256 * 127 * 127, VectorMath.Dot(plus, plus));
        Assert.Equal(256 * 127 * 127, VectorMath.Dot(minus, minus));
        Assert.Equal(-256 * 127 * 127, VectorMath.Dot(plus, minus));
    }

    [Fact]
    public void Dot128_matches_scalar_and_is_symmetric()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 500; trial++)
        {
            var a = RandomCode(random, FaceVector.Dimensions);
            var b = RandomCode(random, FaceVector.Dimensions);
            int expected = VectorMath.DotScalar(a, b);
            Assert.Equal(expected, VectorMath.Dot128(ref a[0], ref b[0]));
            Assert.Equal(expected, VectorMath.Dot128(ref b[0], ref a[0]));
        }
    }

    [Fact]
    public void Dot128x4_matches_four_scalar_dots_including_the_extremes()
    {
        var random = new Random(11);
        var plus = Enumerable.Repeat((sbyte)127, FaceVector.Dimensions).ToArray();
        var minus = Enumerable.Repeat((sbyte)-127, FaceVector.Dimensions).ToArray();
        for (int trial = 0; trial < 300; trial++)
        {
            var a = trial == 0 ? plus : RandomCode(random, FaceVector.Dimensions);
            var b = Enumerable.Range(0, 4).Select(i => trial == 0 ? (i % 2 == 0 ? plus : minus) : RandomCode(random, FaceVector.Dimensions)).ToArray();
            var dots = VectorMath.Dot128x4(ref a[0], ref b[0][0], ref b[1][0], ref b[2][0], ref b[3][0]);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(VectorMath.DotScalar(a, b[i]), dots[i]);
            }
        }
    }

    [Fact]
    public void Dot_rejects_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>(() => VectorMath.Dot(new sbyte[3], new sbyte[4]));
        Assert.Throws<ArgumentException>(() => VectorMath.Dot(new float[3], new float[4]));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FloatDot_matches_scalar_within_rounding(int length)
    {
        var random = new Random(99 + length);
        var a = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        double expected = 0;
        for (int i = 0; i < length; i++)
        {
            expected += (double)a[i] * b[i];
        }

        Assert.Equal(expected, VectorMath.Dot(a, b), 3);
    }

    internal static sbyte[] RandomCode(Random random, int length)
    {
        var v = new sbyte[length];
        for (int i = 0; i < length; i++)
        {
            v[i] = (sbyte)random.Next(-127, 128);
        }

        return v;
    }
}
