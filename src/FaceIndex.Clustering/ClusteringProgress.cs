namespace FaceIndex.Clustering;

/// <summary>The phases of a clustering run, in order.</summary>
public enum ClusteringPhase
{
    /// <summary>Querying the index for every face's nearest neighbours.</summary>
    KnnGraph = 0,

    /// <summary>Running the clustering algorithm over the graph.</summary>
    Clustering = 1,

    /// <summary>Numbering clusters and choosing their representatives.</summary>
    Finishing = 2,
}

/// <summary>
/// A progress report: the phase, and how many of its work items are done. Reports arrive from
/// worker threads; <c>Completed</c> never decreases within a phase.
/// </summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Completed">Work items done in this phase (faces, or iterations for Chinese whispers).</param>
/// <param name="Total">Work items in this phase.</param>
public readonly record struct ClusteringProgress(ClusteringPhase Phase, long Completed, long Total)
{
    /// <summary>The phase as operations and progress bars name it: "knn-graph", "clustering" or "finishing".</summary>
    public string PhaseName => Phase switch
    {
        ClusteringPhase.KnnGraph => "knn-graph",
        ClusteringPhase.Clustering => "clustering",
        _ => "finishing",
    };

    /// <summary>Fraction of the phase done, in [0, 1].</summary>
    public double Fraction => Total <= 0 ? 1.0 : Math.Clamp((double)Completed / Total, 0.0, 1.0);
}
