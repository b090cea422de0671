using System.Text.Json;
using Lightfast.Cloud.Errors;

namespace Lightfast.Cloud.Tools;

/// <summary>
/// Parses the JSON arguments of a tool call and checks them against the top level of the tool's input schema
/// (required properties, property types, <c>additionalProperties: false</c>, <c>enum</c>) before anything is
/// sent to the server, so that a caller's mistake is a 422 <c>TOOL_INVALID_ARGUMENTS</c> listing each problem,
/// not a failure inside the server.
/// </summary>
public static class ToolArguments
{
    public static IReadOnlyDictionary<string, object?> Parse(string? argumentsJson, string server, ToolDescriptor tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(argumentsJson))
        {
            JsonElement root;
            try
            {
                using var document = JsonDocument.Parse(argumentsJson);
                root = document.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw Invalid(server, tool.Name, [$"arguments: not valid JSON ({ex.Message})"]);
            }

            if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in root.EnumerateObject())
                {
                    arguments[property.Name] = property.Value;
                }
            }
            else if (root.ValueKind != JsonValueKind.Null)
            {
                throw Invalid(server, tool.Name, [$"arguments: must be a JSON object, not {Describe(root.ValueKind)}"]);
            }
        }

        var problems = Check(arguments, tool.InputSchema);
        if (problems.Count > 0)
        {
            throw Invalid(server, tool.Name, problems);
        }

        return arguments;
    }

    private static List<string> Check(Dictionary<string, object?> arguments, string inputSchema)
    {
        var problems = new List<string>();
        using var schemaDocument = JsonDocument.Parse(inputSchema);
        var schema = schemaDocument.RootElement;
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return problems;
        }

        var properties = schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !arguments.ContainsKey(name.GetString()!))
                {
                    problems.Add($"arguments.{name.GetString()}: is required");
                }
            }
        }

        var closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
        foreach (var (name, value) in arguments)
        {
            if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(name, out var propertySchema))
            {
                if (closed)
                {
                    problems.Add($"arguments.{name}: is not a parameter of this tool");
                }

                continue;
            }

            var element = (JsonElement)value!;
            if (propertySchema.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (propertySchema.TryGetProperty("type", out var type) && !MatchesType(element, type))
            {
                problems.Add($"arguments.{name}: expected {DescribeType(type)}, got {Describe(element.ValueKind)}");
            }
            else if (propertySchema.TryGetProperty("enum", out var allowed) && allowed.ValueKind == JsonValueKind.Array
                && !allowed.EnumerateArray().Any(candidate => JsonElement.DeepEquals(candidate, element)))
            {
                problems.Add($"arguments.{name}: must be one of {allowed.GetRawText()}");
            }
        }

        return problems;
    }

    private static bool MatchesType(JsonElement value, JsonElement type) => type.ValueKind switch
    {
        JsonValueKind.String => MatchesType(value, type.GetString()!),
        JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String || MatchesType(value, t.GetString()!)),
        _ => true,
    };

    private static bool MatchesType(JsonElement value, string type) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string DescribeType(JsonElement type) =>
        type.ValueKind == JsonValueKind.Array ? string.Join(" or ", type.EnumerateArray().Select(t => t.ToString())) : type.ToString();

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static ToolExecutionException Invalid(string server, string tool, List<string> problems)
    {
        var exception = new ToolExecutionException(
            ErrorCodes.ToolInvalidArguments,
            ErrorCategory.Unprocessable,
            server,
            tool,
            $"Invalid arguments for tool '{tool}' of server '{server}': {string.Join("; ", problems)}");
        exception.WithDetail("problems", string.Join("\n", problems));
        return exception;
    }
}
