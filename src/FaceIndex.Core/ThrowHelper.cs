using System.Diagnostics.CodeAnalysis;

namespace FaceIndex.Core;

/// <summary>Throw helpers kept out of line so that callers stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowWrongVectorLength(int length) =>
        throw new ArgumentException($"A face vector has exactly {FaceVector.Dimensions} components; got {length}.");

    [DoesNotReturn]
    public static void ThrowLengthMismatch(int a, int b) =>
        throw new ArgumentException($"Vectors must have the same length; got {a} and {b}.");
}
