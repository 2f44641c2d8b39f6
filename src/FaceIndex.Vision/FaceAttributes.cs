namespace FaceIndex.Vision;

/// <summary>
/// Optional per-face attributes from the model package's own models (faceplugin-face-recognition-js:
/// fr_age.onnx and fr_gender.onnx, SSR-Net; fr_expression.onnx, 7 classes), decoded as the package's
/// JavaScript decodes them. No accuracy is claimed: there is no labelled data here to measure them on.
/// </summary>
/// <param name="Age">Estimated age in years.</param>
/// <param name="Gender">"male" or "female": the side of 0.5 that <paramref name="GenderScore"/> falls on.</param>
/// <param name="GenderScore">The gender model's output in [0, 1]; towards 1 is male (7 of 8 deepface faces whose gender is evident fall on the right side).</param>
/// <param name="Expression">The most probable expression class (<see cref="ExpressionLabels"/>).</param>
/// <param name="ExpressionConfidence">Its softmax probability.</param>
public sealed record FaceAttributes(float Age, string Gender, float GenderScore, string Expression, float ExpressionConfidence)
{
    /// <summary>
    /// The expression classes in the model's output order, assumed to be FER-2013's (the package does not
    /// name them); the smiling deepface faces come out "happy", nothing else was checked.
    /// </summary>
    public static IReadOnlyList<string> ExpressionLabels { get; } = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];
}
