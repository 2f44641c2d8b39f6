using FaceIndex.Core;

namespace FaceIndex.Gpu.Tests;

/// <summary>Random codes and ids for the scan tests.</summary>
internal static class RandomCodes
{
    /// <summary>
    /// <paramref name="count"/> codes with components in [-spread, spread] (a small spread makes
    /// many equal scores, so tie order matters) and distinct ids in no particular order.
    /// </summary>
    public static (FaceVector[] Vectors, long[] Ids) Create(int count, int spread, int seed)
    {
        var random = new Random(seed);
        var vectors = new FaceVector[count];
        var ids = new long[count];
        var components = new sbyte[FaceVector.Dimensions];
        for (int i = 0; i < count; i++)
        {
            for (int d = 0; d < components.Length; d++)
            {
                components[d] = (sbyte)random.Next(-spread, spread + 1);
            }

            vectors[i] = new FaceVector(components);
            ids[i] = 1_000_000_007L - (i * 7_919L % 1_000_003L) + (random.Next(2) * 3_000_000L);
        }

        return (vectors, ids);
    }
}
