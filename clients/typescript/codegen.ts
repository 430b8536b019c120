// GraphQL Code Generator: types of the schema and of every operation in ../operations.
// `make clients` writes src/generated/graphql.ts; `make clients-check` writes to CHATGQL_CODEGEN_OUT
// and compares.
import type { CodegenConfig } from "@graphql-codegen/cli";

const output = process.env.CHATGQL_CODEGEN_OUT ?? "src/generated/graphql.ts";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["../operations/*.graphql"],
  silent: true,
  generates: {
    [output]: {
      plugins: ["typescript-operations"],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: {
          Date: "string",
          DateTime: "string",
          JSON: "unknown",
          Upload: "File | Blob",
        },
      },
    },
  },
};

export default config;
