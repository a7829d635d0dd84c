# Monthly churn report, kept from the first version of the project (Python 2).
import csv

rows = list(csv.DictReader(open("../data/churn.csv")))
churned = [r for r in rows if r["churned"] == "1"]
print "churn rate: %.3f" % (float(len(churned)) / len(rows))
