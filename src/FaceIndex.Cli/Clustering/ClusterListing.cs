using System.Globalization;
using FaceIndex.Clustering;
using Spectre.Console;

namespace FaceIndex.Cli.Clustering;

/// <summary>A cluster as the CLI prints it.</summary>
/// <param name="Id">Dense id; 0 is the largest cluster.</param>
/// <param name="Size">Member faces.</param>
/// <param name="Representative">The member nearest the centroid (a face id or an image path).</param>
/// <param name="SuggestedPerson">The enrolled person the cluster most likely is, or "".</param>
/// <param name="SuggestedDistance">Distance to that person.</param>
internal readonly record struct ClusterEntry(int Id, int Size, string Representative, string SuggestedPerson, float SuggestedDistance);

/// <summary>One member of a cluster: its key (a face id in decimal, or an image path) and its cluster.</summary>
internal readonly record struct ClusterMember(string Key, int Cluster);

/// <summary>A finished clustering as the CLI reports it: clusters largest first, and (when fetched) every member.</summary>
internal sealed class ClusterListing(IReadOnlyList<ClusterEntry> clusters, IReadOnlyList<ClusterMember> members, string source)
{
    public IReadOnlyList<ClusterEntry> Clusters { get; } = clusters;

    /// <summary>Every member face, or empty when the members were not fetched.</summary>
    public IReadOnlyList<ClusterMember> Members { get; } = members;

    /// <summary>Where the result comes from (an operation id, or the image folder).</summary>
    public string Source { get; } = source;

    /// <summary>Prints the totals and the largest clusters.</summary>
    public void Print(IAnsiConsole console, int top)
    {
        var inv = CultureInfo.InvariantCulture;
        long faces = Clusters.Sum(c => (long)c.Size);
        int singletons = Clusters.Count(c => c.Size == 1);
        int suggested = Clusters.Count(c => c.SuggestedPerson.Length > 0);
        console.MarkupLineInterpolated(inv, $"[bold]{Clusters.Count}[/] clusters of {faces} faces ({singletons} of one face, {suggested} with a suggested person); {Source}");
        if (top <= 0 || Clusters.Count == 0)
        {
            return;
        }

        var table = new Table().AddColumns("cluster", "size", "representative", "suggested person", "distance");
        foreach (var c in Clusters.Take(top))
        {
            table.AddRow(
                c.Id.ToString(inv),
                c.Size.ToString(inv),
                Markup.Escape(c.Representative),
                Markup.Escape(c.SuggestedPerson),
                c.SuggestedPerson.Length > 0 ? c.SuggestedDistance.ToString("F3", inv) : "");
        }

        console.Write(table);
    }

    /// <summary>Writes <c>key,cluster</c> per member, in cluster order.</summary>
    public async Task WriteCsvAsync(string path, string keyName, CancellationToken ct)
    {
        await using var writer = new StreamWriter(path);
        await writer.WriteLineAsync($"{keyName},cluster".AsMemory(), ct).ConfigureAwait(false);
        foreach (var member in Members)
        {
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{member.Key},{member.Cluster}").AsMemory(), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Pairwise and BCubed quality against <paramref name="labels"/> (key → identity), over the members
    /// that have a label; the counts of members without one and of labels without a member are returned too.
    /// </summary>
    public (ClusteringQuality Quality, int Unlabelled, int Unmatched) Evaluate(IReadOnlyDictionary<string, string> labels)
    {
        var labelIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var truth = new List<int>();
        var predicted = new List<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int unlabelled = 0;
        foreach (var member in Members)
        {
            if (!labels.TryGetValue(member.Key, out var label))
            {
                unlabelled++;
                continue;
            }

            seen.Add(member.Key);
            if (!labelIds.TryGetValue(label, out int id))
            {
                labelIds[label] = id = labelIds.Count;
            }

            truth.Add(id);
            predicted.Add(member.Cluster);
        }

        var quality = ClusteringMetrics.Evaluate(truth.ToArray(), predicted.ToArray());
        return (quality, unlabelled, labels.Count - seen.Count);
    }

    /// <summary>Prints what <see cref="Evaluate"/> found.</summary>
    public static void PrintQuality(IAnsiConsole console, ClusteringQuality q, int unlabelled, int unmatched)
    {
        var inv = CultureInfo.InvariantCulture;
        console.MarkupLineInterpolated(inv, $"evaluated {q.Items} labelled faces: {q.TrueClusters} identities, {q.PredictedClusters} clusters ({unlabelled} clustered faces without a label, {unmatched} labels without a clustered face)");
        var table = new Table().AddColumns("", "precision", "recall", "F1");
        table.AddRow("pairwise", q.PairwisePrecision.ToString("F4", inv), q.PairwiseRecall.ToString("F4", inv), q.PairwiseF1.ToString("F4", inv));
        table.AddRow("BCubed", q.BCubedPrecision.ToString("F4", inv), q.BCubedRecall.ToString("F4", inv), q.BCubedF1.ToString("F4", inv));
        console.Write(table);
    }
}
