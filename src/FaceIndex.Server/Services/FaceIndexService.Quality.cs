using FaceIndex.Server.Internal;
using FaceIndex.Vision;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

/// <summary>The quality gate, open-set thresholds and the quality and attribute messages.</summary>
internal sealed partial class FaceIndexService
{
    /// <summary>The quality minimum of a request: its own (checked), or the collection's.</summary>
    private float MinQuality(bool has, float requested, string collection)
    {
        if (!has)
        {
            return _options.MinFaceQualityOf(collection);
        }

        if (!float.IsFinite(requested) || requested is < 0f or > 1f)
        {
            Errors.ThrowInvalid($"min_quality is a face quality in [0, 1] (0 = no gate); got {requested}.");
        }

        return requested;
    }

    /// <summary>
    /// The search threshold of a request and the FPIR target it was calibrated for (0 for a fixed one): the
    /// request's threshold; else the threshold calibrated for the request's FPIR, or the collection's, at the
    /// collection's size; a configured Server:MatchThreshold replaces the collection's calibration. The calibration
    /// was measured for the server's own model (fr512): a collection of another model (dlib, fused) searches at
    /// that model's fixed identification threshold.
    /// </summary>
    private (float Threshold, double Fpir) SearchThreshold(V1.SearchRequest request, Storage.CollectionRecord collection)
    {
        if (request.HasThreshold && request.HasFpir)
        {
            Errors.ThrowInvalid("A search gives a threshold or an fpir target, not both.");
        }

        if (request.HasThreshold)
        {
            return (Threshold(true, request.Threshold, 0f), 0);
        }

        if (request.HasFpir)
        {
            if (!double.IsFinite(request.Fpir) || request.Fpir is <= 0 or >= 1)
            {
                Errors.ThrowInvalid($"fpir is a false-positive identification rate in (0, 1), e.g. 0.01; got {request.Fpir}.");
            }

            var grid = CalibrationOf(collection);
            if (grid is null)
            {
                Errors.ThrowInvalid(migrated.TryGet(collection, out _)
                    ? $"Collection '{collection.Name}' holds codes mapped from another model (MigrateCollection), for which no impostor distribution was measured, so no threshold can be calibrated from an fpir; pass a threshold instead."
                    : $"No impostor distribution was measured for model '{collection.ModelVersion}' of collection '{collection.Name}', so no threshold can be calibrated from an fpir; pass a threshold instead.");
            }

            return (grid!.ThresholdFor(request.Fpir, collection.FaceCount), request.Fpir);
        }

        return CollectionThreshold(collection);
    }

    /// <summary>A collection's default search threshold at its size, and the FPIR it is calibrated for (0 when fixed).</summary>
    private (float Threshold, double Fpir) CollectionThreshold(Storage.CollectionRecord collection)
    {
        if (migrated.TryGet(collection, out var note))
        {
            return (note.SearchThreshold, 0);
        }

        // Server:MatchThreshold is a distance of the server's own model.
        if (UsesPipelineModel(collection) && _options.MatchThreshold is { } fixedThreshold)
        {
            return (fixedThreshold, 0);
        }

        if (CalibrationOf(collection) is not { } calibration)
        {
            return (ModelMatchThreshold(collection), 0);
        }

        double fpir = _options.SearchFpirOf(collection.Name);
        return (calibration.ThresholdFor(fpir, collection.FaceCount), fpir);
    }

    /// <summary>
    /// The FPIR calibration grid of a collection's model: the manifest's for the server's own model, models.json's
    /// for another (dlib128-v1); null for a model without one (fused-v1) and for a migrated collection's mapped codes.
    /// </summary>
    private OpenSetCalibration? CalibrationOf(Storage.CollectionRecord collection)
    {
        if (migrated.TryGet(collection, out _))
        {
            return null;
        }

        return UsesPipelineModel(collection) ? Pipeline.OpenSet : Pipeline.Registry.TryGet(collection.ModelVersion, out var model) ? model.OpenSet : null;
    }

    /// <summary>The API message of a face's quality, with the issues under <paramref name="minimum"/>.</summary>
    private static V1.FaceQuality QualityMessage(FaceQuality quality, float minimum)
    {
        var message = new V1.FaceQuality
        {
            Score = quality.Score,
            DetectionScore = quality.DetectionScore,
            FaceSize = quality.FaceSize,
            Yaw = quality.Pose.Yaw,
            Pitch = quality.Pose.Pitch,
            Roll = quality.Pose.Roll,
            Sharpness = quality.Sharpness,
        };
        var issues = quality.IssuesUnder(minimum);
        if (issues.HasFlag(QualityIssues.TooSmall))
        {
            message.Issues.Add("TOO_SMALL");
        }

        if (issues.HasFlag(QualityIssues.Profile))
        {
            message.Issues.Add("PROFILE");
        }

        if (issues.HasFlag(QualityIssues.Blurred))
        {
            message.Issues.Add("BLURRED");
        }

        if (issues.HasFlag(QualityIssues.LowConfidence))
        {
            message.Issues.Add("LOW_CONFIDENCE");
        }

        return message;
    }

    private static V1.FaceAttributes? AttributesMessage(FaceAttributes? attributes) => attributes is null ? null : new V1.FaceAttributes
    {
        Age = attributes.Age,
        Gender = attributes.Gender,
        GenderScore = attributes.GenderScore,
        Expression = attributes.Expression,
        ExpressionConfidence = attributes.ExpressionConfidence,
    };
}
