using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace FaceIndex.Gpu.Internal;

/// <summary>
/// One 128-byte code held in a kernel thread's registers as 32 packed words (word w holds
/// components 4w … 4w + 3, little-endian), with its dot product against a code in memory.
/// Written out field by field: registers cannot be indexed, and the kernel compiler does not
/// unroll loops reliably.
/// </summary>
internal struct PackedCode
{
    public int W0;
    public int W1;
    public int W2;
    public int W3;
    public int W4;
    public int W5;
    public int W6;
    public int W7;
    public int W8;
    public int W9;
    public int W10;
    public int W11;
    public int W12;
    public int W13;
    public int W14;
    public int W15;
    public int W16;
    public int W17;
    public int W18;
    public int W19;
    public int W20;
    public int W21;
    public int W22;
    public int W23;
    public int W24;
    public int W25;
    public int W26;
    public int W27;
    public int W28;
    public int W29;
    public int W30;
    public int W31;

    /// <summary>Reads the code at word offset <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PackedCode Load(ArrayView<int> codes, int at) =>
        new()
        {
            W0 = codes[at + 0],
            W1 = codes[at + 1],
            W2 = codes[at + 2],
            W3 = codes[at + 3],
            W4 = codes[at + 4],
            W5 = codes[at + 5],
            W6 = codes[at + 6],
            W7 = codes[at + 7],
            W8 = codes[at + 8],
            W9 = codes[at + 9],
            W10 = codes[at + 10],
            W11 = codes[at + 11],
            W12 = codes[at + 12],
            W13 = codes[at + 13],
            W14 = codes[at + 14],
            W15 = codes[at + 15],
            W16 = codes[at + 16],
            W17 = codes[at + 17],
            W18 = codes[at + 18],
            W19 = codes[at + 19],
            W20 = codes[at + 20],
            W21 = codes[at + 21],
            W22 = codes[at + 22],
            W23 = codes[at + 23],
            W24 = codes[at + 24],
            W25 = codes[at + 25],
            W26 = codes[at + 26],
            W27 = codes[at + 27],
            W28 = codes[at + 28],
            W29 = codes[at + 29],
            W30 = codes[at + 30],
            W31 = codes[at + 31],
        };

    /// <summary>
    /// The int8 dot product of <paramref name="q"/> with the code at word offset <paramref name="at"/> of
    /// <paramref name="tile"/>. Static and by value, so that the inlined code keeps q in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(PackedCode q, ArrayView<int> tile, int at)
    {
        int s = 0;
        s = Dp4a(q.W0, tile[at + 0], s);
        s = Dp4a(q.W1, tile[at + 1], s);
        s = Dp4a(q.W2, tile[at + 2], s);
        s = Dp4a(q.W3, tile[at + 3], s);
        s = Dp4a(q.W4, tile[at + 4], s);
        s = Dp4a(q.W5, tile[at + 5], s);
        s = Dp4a(q.W6, tile[at + 6], s);
        s = Dp4a(q.W7, tile[at + 7], s);
        s = Dp4a(q.W8, tile[at + 8], s);
        s = Dp4a(q.W9, tile[at + 9], s);
        s = Dp4a(q.W10, tile[at + 10], s);
        s = Dp4a(q.W11, tile[at + 11], s);
        s = Dp4a(q.W12, tile[at + 12], s);
        s = Dp4a(q.W13, tile[at + 13], s);
        s = Dp4a(q.W14, tile[at + 14], s);
        s = Dp4a(q.W15, tile[at + 15], s);
        s = Dp4a(q.W16, tile[at + 16], s);
        s = Dp4a(q.W17, tile[at + 17], s);
        s = Dp4a(q.W18, tile[at + 18], s);
        s = Dp4a(q.W19, tile[at + 19], s);
        s = Dp4a(q.W20, tile[at + 20], s);
        s = Dp4a(q.W21, tile[at + 21], s);
        s = Dp4a(q.W22, tile[at + 22], s);
        s = Dp4a(q.W23, tile[at + 23], s);
        s = Dp4a(q.W24, tile[at + 24], s);
        s = Dp4a(q.W25, tile[at + 25], s);
        s = Dp4a(q.W26, tile[at + 26], s);
        s = Dp4a(q.W27, tile[at + 27], s);
        s = Dp4a(q.W28, tile[at + 28], s);
        s = Dp4a(q.W29, tile[at + 29], s);
        s = Dp4a(q.W30, tile[at + 30], s);
        s = Dp4a(q.W31, tile[at + 31], s);
        return s;
    }

    /// <summary>
    /// c + the dot product of the four signed bytes of <paramref name="a"/> and <paramref name="b"/>:
    /// one dp4a instruction on CUDA devices (compute capability 6.1 and later), four multiplies elsewhere.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dp4a(int a, int b, int c)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("dp4a.s32.s32 %0, %1, %2, %3;", out int d, a, b, c);
            return d;
        }

        return c
            + ((sbyte)a * (sbyte)b)
            + ((sbyte)(a >> 8) * (sbyte)(b >> 8))
            + ((sbyte)(a >> 16) * (sbyte)(b >> 16))
            + ((a >> 24) * (b >> 24));
    }
}
