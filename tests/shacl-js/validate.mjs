// A second SHACL engine for the tests: validate a data file against a shapes file with
// rdf-validate-shacl and print the report as JSON (conforms and each result's focus node,
// path and severity), one line per data file. Usage: node validate.mjs shapes.nt data.nt…
import factory from '@zazuko/env-node'
import SHACLValidator from 'rdf-validate-shacl'

const [shapesFile, ...dataFiles] = process.argv.slice(2)
const shapes = await factory.dataset().import(factory.fromFile(shapesFile))

function term (node) {
  if (!node) return null
  if (node.termType === 'NamedNode') return node.value
  if (node.termType === 'BlankNode') {
    // an inverse path: "^" and the property, as the Python side writes it
    const inverse = shapes.match(node, factory.ns.sh.inversePath, null)
    for (const quad of inverse) return '^' + quad.object.value
    return '_:'
  }
  return node.value
}

for (const dataFile of dataFiles) {
  const data = await factory.dataset().import(factory.fromFile(dataFile))
  const validator = new SHACLValidator(shapes, { factory })
  const report = await validator.validate(data)
  const results = report.results.map(result => ({
    focus: term(result.focusNode),
    path: term(result.path),
    severity: term(result.severity)
  }))
  process.stdout.write(JSON.stringify({ file: dataFile, conforms: report.conforms, results }) + '\n')
}
