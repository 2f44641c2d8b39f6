using System.Runtime.CompilerServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// Search keys: a score and a slot packed into one <c>long</c> as <c>(score &lt;&lt; 32) | slot</c>, so
/// that sorts compare one integer (higher score first; ties by slot).
/// </summary>
internal static class Key
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Pack(int score, int slot) => ((long)score << 32) | (uint)slot;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Score(long key) => (int)(key >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(long key) => (int)key;
}
