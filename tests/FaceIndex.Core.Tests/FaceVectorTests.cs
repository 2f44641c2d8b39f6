using FaceIndex.Testing;

namespace FaceIndex.Core.Tests;

public class FaceVectorTests
{
    [Fact]
    public void Is_exactly_128_bytes_and_round_trips_through_bytes_and_base64()
    {
        Assert.Equal(128, System.Runtime.CompilerServices.Unsafe.SizeOf<FaceVector>());
        var raw = VectorMathTests.RandomCode(new Random(3), 128);
        var v = new FaceVector(raw);
        Assert.Equal(raw, v.AsSpan().ToArray());
        Assert.Equal(v, FaceVector.FromBytes(v.ToArray()));
        Assert.Equal(v, FaceVector.FromBase64(v.ToBase64()));
        Assert.Equal(v.GetHashCode(), FaceVector.FromBase64(v.ToBase64()).GetHashCode());
    }

    [Fact]
    public void Wrong_lengths_are_refused_with_a_message_that_names_the_length()
    {
        var e = Assert.Throws<ArgumentException>(() => new FaceVector(new sbyte[64]));
        Assert.Contains("64", e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => FaceVector.FromBase64(Convert.ToBase64String(new byte[12])));
    }

    [Fact]
    public void Synthetic_rows_are_unit_norm_and_labelled_as_specified()
    {
        var row = new float[128];
        SyntheticFaces.BaseRow(123_456, row);
        Assert.InRange(VectorMath.Dot(row, row), 0.9999f, 1.0001f);
        Assert.Equal(13_456, SyntheticFaces.IdentityOfBaseRow(123_456));
        Assert.Equal(10_000 + 3_456, SyntheticFaces.IdentityOfBaseRow(113_456));
        Assert.InRange(SyntheticFaces.IdentityOfQuery(5, 100_000), 0, 9_999);
    }
}
