using FaceIndex.Core;

namespace FaceIndex.Vision;

/// <summary>
/// The plan that turns a face's codes under one model into its codes under another, without the
/// image (<see cref="ModelRegistry.PlanMigration"/>): each code of the target model is either one of the
/// source codes kept as it is (an embedder both models use) or a source code mapped by a
/// <see cref="CodeMap"/>.
/// </summary>
public sealed class ModelMigration
{
    internal ModelMigration(EmbeddingModel from, EmbeddingModel to, Step[] steps)
    {
        From = from;
        To = to;
        Steps = steps;
    }

    /// <summary>The collection's model before.</summary>
    public EmbeddingModel From { get; }

    /// <summary>The model after.</summary>
    public EmbeddingModel To { get; }

    internal Step[] Steps { get; }

    /// <summary>Whether some code is mapped (false: every target code is a source code kept as it is).</summary>
    public bool MapsCodes => Steps.Any(s => s.Map is not null);

    /// <summary>
    /// Verify's default threshold for a migrated face against a probe of the target model: measured for
    /// mapped codes (models.json, "migrations"), or the target model's own when no code is mapped.
    /// </summary>
    public float VerificationThreshold { get; init; }

    /// <summary>Search's default threshold for the same comparison.</summary>
    public float IdentificationThreshold { get; init; }

    /// <summary>The target codes of a face from its <see cref="EmbeddingModel.CodesPerFace"/> source codes.</summary>
    /// <exception cref="ArgumentException">The face does not have the source model's number of codes.</exception>
    public FaceVector[] Apply(ReadOnlySpan<FaceVector> source)
    {
        if (source.Length != From.CodesPerFace)
        {
            throw new ArgumentException($"A face of model {From.Id} has {From.CodesPerFace} code(s); got {source.Length}.", nameof(source));
        }

        var target = new FaceVector[Steps.Length];
        for (int i = 0; i < Steps.Length; i++)
        {
            var code = source[Steps[i].Source];
            target[i] = Steps[i].Map is { } map ? map.Apply(code) : code;
        }

        return target;
    }

    /// <summary>The plan in words, e.g. "dlib128 code mapped from the fr512 code (fitted on 4,500 faces)".</summary>
    public string Describe() => string.Join("; ", Steps.Select((s, i) => s.Map is { } map
        ? $"{EmbedderNames.Of(To.Embedders[i])} code mapped from the {EmbedderNames.Of(map.From)} code (fitted on {map.Samples:N0} faces)"
        : $"{EmbedderNames.Of(To.Embedders[i])} code kept"));

    /// <summary>One target code: the source code it comes from, and the map applied to it (null: kept).</summary>
    internal readonly record struct Step(int Source, CodeMap? Map);
}
