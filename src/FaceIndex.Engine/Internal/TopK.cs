using FaceIndex.Index;

namespace FaceIndex.Engine.Internal;

/// <summary>Merging of ranked result lists (best first) into one, without repeating a face.</summary>
internal static class TopK
{
    /// <summary>
    /// Merges <paramref name="other"/> into the first <paramref name="count"/> entries of
    /// <paramref name="results"/>; both are ordered by score descending. Keeps the best
    /// <c>results.Length</c>, each id once; returns how many that is.
    /// </summary>
    public static int MergeInto(Span<Neighbor> results, int count, ReadOnlySpan<Neighbor> other)
    {
        int k = results.Length;
        Span<Neighbor> first = count <= 64 ? stackalloc Neighbor[count] : new Neighbor[count];
        results[..count].CopyTo(first);
        int i = 0;
        int j = 0;
        int n = 0;
        while (n < k && (i < first.Length || j < other.Length))
        {
            Neighbor next;
            if (j >= other.Length || (i < first.Length && first[i].Score >= other[j].Score))
            {
                next = first[i++];
            }
            else
            {
                next = other[j++];
            }

            if (!Holds(results[..n], next.Id))
            {
                results[n++] = next;
            }
        }

        return n;
    }

    /// <summary>True when a face id is among the first results (lists are short: top-k).</summary>
    private static bool Holds(ReadOnlySpan<Neighbor> results, long id)
    {
        foreach (var r in results)
        {
            if (r.Id == id)
            {
                return true;
            }
        }

        return false;
    }
}
