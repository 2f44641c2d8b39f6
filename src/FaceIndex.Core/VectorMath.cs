using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FaceIndex.Core;

/// <summary>
/// Dot-product kernels: int8 (the hot path of the index) and float32 (evaluation, projection).
/// Each kernel validates once, then takes the widest hardware tier available
/// (Vector512 → Vector256 → Vector128) and finishes with a scalar tail; the scalar
/// <c>…Scalar</c> methods are the reference that the tests compare every tier against.
/// </summary>
public static class VectorMath
{
    /// <summary>
    /// Int8 dot product with int32 accumulation. Components must lie in [-127, 127]
    /// (the quantizer never produces -128): the x86 tiers use the unsigned×signed
    /// multiply-add trick, which is exact on that range.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length)
        {
            ThrowHelper.ThrowLengthMismatch(a.Length, b.Length);
        }

        return DotUnchecked(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    /// <summary>
    /// Int8 dot product of two 128-component codes addressed by reference: the index's inner
    /// loop, with no length check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot128(ref sbyte a, ref sbyte b)
    {
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
        {
            return Dot128Avx2(ref a, ref b);
        }

        return DotUnchecked(ref a, ref b, FaceVector.Dimensions);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Dot128Avx2(ref sbyte a, ref sbyte b)
    {
        // Four 32-byte blocks, two independent accumulators to hide the multiply latency.
        var ones = Vector256.Create((short)1);
        var acc0 = MulAdd(Vector256.LoadUnsafe(ref a), Vector256.LoadUnsafe(ref b), ones);
        var acc1 = MulAdd(Vector256.LoadUnsafe(ref a, 32), Vector256.LoadUnsafe(ref b, 32), ones);
        acc0 += MulAdd(Vector256.LoadUnsafe(ref a, 64), Vector256.LoadUnsafe(ref b, 64), ones);
        acc1 += MulAdd(Vector256.LoadUnsafe(ref a, 96), Vector256.LoadUnsafe(ref b, 96), ones);
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>
    /// Four int8 dot products of one 128-component code <paramref name="a"/> (the query) with
    /// four others, as lanes 0–3: the search's batch kernel. The query's blocks and their
    /// absolute values are loaded once for the four, and one horizontal-add tree replaces four
    /// reductions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot128x4(ref sbyte a, ref sbyte b0, ref sbyte b1, ref sbyte b2, ref sbyte b3)
    {
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
        {
            return Dot128x4Avx2(ref a, ref b0, ref b1, ref b2, ref b3);
        }

        return Vector128.Create(
            DotUnchecked(ref a, ref b0, FaceVector.Dimensions),
            DotUnchecked(ref a, ref b1, FaceVector.Dimensions),
            DotUnchecked(ref a, ref b2, FaceVector.Dimensions),
            DotUnchecked(ref a, ref b3, FaceVector.Dimensions));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot128x4Avx2(ref sbyte a, ref sbyte b0, ref sbyte b1, ref sbyte b2, ref sbyte b3)
    {
        var ones = Vector256.Create((short)1);
        var a0 = Vector256.LoadUnsafe(ref a);
        var a1 = Vector256.LoadUnsafe(ref a, 32);
        var a2 = Vector256.LoadUnsafe(ref a, 64);
        var a3 = Vector256.LoadUnsafe(ref a, 96);
        var u0 = Avx2.Abs(a0);
        var u1 = Avx2.Abs(a1);
        var u2 = Avx2.Abs(a2);
        var u3 = Avx2.Abs(a3);
        var s0 = Blocks(u0, u1, u2, u3, a0, a1, a2, a3, ref b0, ones);
        var s1 = Blocks(u0, u1, u2, u3, a0, a1, a2, a3, ref b1, ones);
        var s2 = Blocks(u0, u1, u2, u3, a0, a1, a2, a3, ref b2, ones);
        var s3 = Blocks(u0, u1, u2, u3, a0, a1, a2, a3, ref b3, ones);

        // Lane i of the 128-bit halves of h: the low and high half-sums of s_i.
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
        return h.GetLower() + h.GetUpper();
    }

    /// <summary>The four 32-byte blocks of one code against the query's (|a| and a given), as eight int32 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Blocks(
        Vector256<byte> u0, Vector256<byte> u1, Vector256<byte> u2, Vector256<byte> u3,
        Vector256<sbyte> a0, Vector256<sbyte> a1, Vector256<sbyte> a2, Vector256<sbyte> a3,
        ref sbyte b, Vector256<short> ones)
    {
        var p0 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u0, Avx2.Sign(Vector256.LoadUnsafe(ref b), a0)), ones);
        var p1 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u1, Avx2.Sign(Vector256.LoadUnsafe(ref b, 32), a1)), ones);
        var p2 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u2, Avx2.Sign(Vector256.LoadUnsafe(ref b, 64), a2)), ones);
        var p3 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u3, Avx2.Sign(Vector256.LoadUnsafe(ref b, 96), a3)), ones);
        return (p0 + p1) + (p2 + p3);
    }

    /// <summary>|a| (unsigned) × sign(b, a) (signed) → pairwise int16 sums → int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MulAdd(Vector256<sbyte> a, Vector256<sbyte> b, Vector256<short> ones)
    {
        var products = Avx2.MultiplyAddAdjacent(Avx2.Abs(a), Avx2.Sign(b, a));
        return Avx2.MultiplyAddAdjacent(products, ones);
    }

    private static int DotUnchecked(ref sbyte a, ref sbyte b, int length)
    {
        nuint i = 0;
        nuint n = (nuint)length;
        int sum = 0;

        if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported && n >= (nuint)Vector512<sbyte>.Count)
        {
            var ones = Vector512.Create((short)1);
            var acc = Vector512<int>.Zero;
            for (; i + (nuint)Vector512<sbyte>.Count <= n; i += (nuint)Vector512<sbyte>.Count)
            {
                var va = Vector512.LoadUnsafe(ref a, i);
                var vb = Vector512.LoadUnsafe(ref b, i);
                var products = Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(va), SignAvx512(vb, va));
                acc += Avx512BW.MultiplyAddAdjacent(products, ones);
            }

            sum = Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported && n - i >= (nuint)Vector256<sbyte>.Count)
        {
            var ones = Vector256.Create((short)1);
            var acc = Vector256<int>.Zero;
            for (; i + (nuint)Vector256<sbyte>.Count <= n; i += (nuint)Vector256<sbyte>.Count)
            {
                acc += MulAdd(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i), ones);
            }

            sum += Vector256.Sum(acc);
        }

        if (Vector128.IsHardwareAccelerated && n - i >= (nuint)Vector128<sbyte>.Count)
        {
            // Portable tier (also ARM): widen to int16, multiply exactly (|p| ≤ 16129), widen to int32.
            var acc = Vector128<int>.Zero;
            for (; i + (nuint)Vector128<sbyte>.Count <= n; i += (nuint)Vector128<sbyte>.Count)
            {
                var va = Vector128.LoadUnsafe(ref a, i);
                var vb = Vector128.LoadUnsafe(ref b, i);
                var lo = Vector128.WidenLower(va) * Vector128.WidenLower(vb);
                var hi = Vector128.WidenUpper(va) * Vector128.WidenUpper(vb);
                acc += Vector128.WidenLower(lo) + Vector128.WidenUpper(lo) + Vector128.WidenLower(hi) + Vector128.WidenUpper(hi);
            }

            sum += Vector128.Sum(acc);
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        }

        return sum;
    }

    /// <summary>AVX-512 has no byte sign instruction: negate b where a is negative, zero it where a is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> SignAvx512(Vector512<sbyte> b, Vector512<sbyte> a)
    {
        var negative = Vector512.LessThan(a, Vector512<sbyte>.Zero);
        var zero = Vector512.Equals(a, Vector512<sbyte>.Zero);
        var signed = Vector512.ConditionalSelect(negative, -b, b);
        return Vector512.AndNot(signed, zero);
    }

    /// <summary>Scalar int8 dot product: the reference for every SIMD tier.</summary>
    public static int DotScalar(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length)
        {
            ThrowHelper.ThrowLengthMismatch(a.Length, b.Length);
        }

        int sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Float32 dot product.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            ThrowHelper.ThrowLengthMismatch(a.Length, b.Length);
        }

        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        nuint n = (nuint)a.Length;
        nuint i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
            {
                acc += Vector256.LoadUnsafe(ref ra, i) * Vector256.LoadUnsafe(ref rb, i);
            }

            sum = Vector256.Sum(acc);
        }
        else if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<float>.Count)
        {
            var acc = Vector128<float>.Zero;
            for (; i + (nuint)Vector128<float>.Count <= n; i += (nuint)Vector128<float>.Count)
            {
                acc += Vector128.LoadUnsafe(ref ra, i) * Vector128.LoadUnsafe(ref rb, i);
            }

            sum = Vector128.Sum(acc);
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref ra, i) * Unsafe.Add(ref rb, i);
        }

        return sum;
    }

    /// <summary>Scales a vector in place to unit L2 norm; leaves an all-zero vector as it is.</summary>
    /// <returns>The norm before scaling.</returns>
    public static float Normalize(Span<float> v)
    {
        float norm = MathF.Sqrt(Dot(v, v));
        if (norm > 0)
        {
            float inv = 1f / norm;
            for (int i = 0; i < v.Length; i++)
            {
                v[i] *= inv;
            }
        }

        return norm;
    }
}
